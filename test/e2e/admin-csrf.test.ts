// Cross-site request forgery against the admin routes, repeated: a browser that logged into /admin/queues (Basic
// auth, which it then sends with every request to the site) must not be made to change admin state by another site.
import { schema } from '@threadwork/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({}, { runWorker: false, toolWorker: false });
});

afterAll(async () => {
  await stack?.close();
});

const basic = `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}`;
const bearer = `Bearer ${ADMIN_KEY}`;
const evilCatalog = 'id,name\nevil-1,Buy at evil.example\n';
/** What a page on another site can make a browser send without a CORS preflight. */
const crossSite = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };

async function catalogNames(): Promise<string[]> {
  const rows = await stack.api.deps.db
    .select({ name: schema.products.name })
    .from(schema.products)
    .orderBy(schema.products.id);
  return rows.map((row) => row.name);
}

async function replaceCatalog(headers: Record<string, string>, body: string): Promise<Response> {
  return fetch(`${stack.api.url}/admin/catalog`, { method: 'POST', headers, body });
}

describe('admin routes and CSRF', () => {
  it('refuses the attack: a cross-site text/plain catalog upload with the browser’s Basic credentials', async () => {
    const before = await catalogNames();
    const forged = await replaceCatalog(
      { authorization: basic, 'content-type': 'text/plain;charset=UTF-8', ...crossSite },
      evilCatalog,
    );
    expect(forged.status).toBe(401);
    expect(await catalogNames()).toEqual(before);
  });

  it('accepts Basic auth only on the queue dashboard', async () => {
    const asBasic = { authorization: basic, 'content-type': 'application/json' };
    const keys = await fetch(`${stack.api.url}/admin/keys`, { headers: asBasic });
    expect(keys.status).toBe(401);
    expect(((await keys.json()) as { error: { code: string } }).error.code).toBe(
      'invalid_authorization_scheme',
    );
    expect((await fetch(`${stack.baseURL}/assistants`, { headers: asBasic })).status).toBe(401);
    expect((await fetch(`${stack.api.url}/api/threads`, { headers: asBasic })).status).toBe(401);
    const dashboard = await fetch(`${stack.api.url}/admin/queues/api/queues`, {
      headers: { authorization: basic },
    });
    expect(dashboard.status).toBe(200);
  });

  it('refuses state-changing admin requests a browser makes for another site, even with a bearer key', async () => {
    const before = await catalogNames();
    const json = JSON.stringify({ products: [{ id: 'evil-1', name: 'Buy at evil.example' }] });
    const attempts: Record<string, string>[] = [
      { authorization: bearer, 'content-type': 'application/json', origin: 'https://evil.example' },
      { authorization: bearer, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
      { authorization: bearer, 'content-type': 'application/json', 'sec-fetch-site': 'same-site' },
      { authorization: bearer, 'content-type': 'application/json', origin: 'null' },
    ];
    for (const headers of attempts) {
      const response = await replaceCatalog(headers, json);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('cross_site_request');
    }
    const keys = await fetch(`${stack.api.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: bearer, 'content-type': 'application/json', ...crossSite },
      body: JSON.stringify({ name: 'forged', role: 'admin' }),
    });
    expect(keys.status).toBe(403);
    expect(await catalogNames()).toEqual(before);
  });

  it("refuses the dashboard's state-changing requests from another site", async () => {
    const forged = await fetch(`${stack.api.url}/admin/queues/api/queues/runs/add`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'text/plain', ...crossSite },
      body: '{"name":"run.execute","data":{}}',
    });
    expect(forged.status).toBe(403);
    const runs = await fetch(`${stack.api.url}/admin/queues/api/queues?activeQueue=runs&status=latest`, {
      headers: { authorization: basic },
    });
    const { queues } = (await runs.json()) as { queues: { name: string; jobs: unknown[] }[] };
    expect(queues.find((queue) => queue.name === 'runs')?.jobs).toEqual([]);
  });

  it('refuses text/plain on JSON admin endpoints and on the catalog (which takes JSON or text/csv)', async () => {
    const before = await catalogNames();
    const asText = await replaceCatalog({ authorization: bearer, 'content-type': 'text/plain' }, evilCatalog);
    expect(asText.status).toBe(415);
    const keys = await fetch(`${stack.api.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: bearer, 'content-type': 'text/plain' },
      body: JSON.stringify({ name: 'as text' }),
    });
    expect(keys.status).toBe(415);
    expect(await catalogNames()).toEqual(before);
  });

  it('still takes same-origin and non-browser admin requests, JSON and CSV', async () => {
    const csv = await replaceCatalog(
      {
        authorization: bearer,
        'content-type': 'text/csv',
        origin: stack.api.url,
        'sec-fetch-site': 'same-origin',
      },
      'id,name\ntea-1,Green tea\n',
    );
    expect(csv.status).toBe(200);
    expect(await catalogNames()).toEqual(['Green tea']);
    const json = await replaceCatalog(
      { authorization: bearer, 'content-type': 'application/json' },
      JSON.stringify({ products: [{ id: 'tea-2', name: 'Black tea' }] }),
    );
    expect(json.status).toBe(200);
    expect(await catalogNames()).toEqual(['Black tea']);
  });
});
