// Projects and their keys through the admin API: projects own the data, keys come and go (rotation keeps every
// thread), a project's admin key manages only its own project.
import { prepareProjectToolsSpace, projectToolsSpace } from '@threadwork/shared/tools-database';
import { createEmptyDatabase, type TestDatabase } from '@threadwork/testing';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN_KEY, type Stack, sdkClient, startStack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ AUTH_CACHE_MS: '60000' });
});

afterAll(async () => {
  await stack?.close();
});

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<Answer<T>> {
  const response = await fetch(`${stack.api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

interface CreatedKey {
  id: string;
  key: string;
  role: string;
  project_id: string;
  expires_at: number | null;
}

async function newProject(name: string): Promise<string> {
  const created = await call<{ id: string }>('POST', '/admin/projects', ADMIN_KEY, { name });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function newKey(
  projectId: string,
  body: Record<string, unknown>,
  key = ADMIN_KEY,
): Promise<CreatedKey> {
  const created = await call<CreatedKey>('POST', `/admin/projects/${projectId}/keys`, key, body);
  expect(created.status).toBe(201);
  return created.body;
}

async function statusWith(key: string): Promise<number> {
  return (await fetch(`${stack.baseURL}/assistants`, { headers: { authorization: `Bearer ${key}` } })).status;
}

describe('/admin/projects', () => {
  it('creates, lists, retrieves and deletes projects; deleting one deletes its data and stops its keys', async () => {
    const created = await call('POST', '/admin/projects', ADMIN_KEY, { name: 'Wellness coach' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^proj_/),
      object: 'project',
      name: 'Wellness coach',
      created_at: expect.any(Number),
      end_user_auth: { has_jwt_secret: false, jwks_url: null, issuer: null, audience: null },
      tools_database_url: null,
      disabled_tools: [],
    });
    const id = created.body.id as string;
    const listed = await call<{ data: { id: string }[] }>('GET', '/admin/projects', ADMIN_KEY);
    expect(listed.body.data.map((project) => project.id)).toEqual(
      expect.arrayContaining(['proj_default', id]),
    );
    expect((await call('GET', `/admin/projects/${id}`, ADMIN_KEY)).body).toEqual(created.body);

    const { key } = await newKey(id, { name: 'backend' });
    const thread = await sdkClient(stack.baseURL, key).beta.threads.create();
    expect(await call('DELETE', `/admin/projects/${id}`, ADMIN_KEY)).toEqual({
      status: 200,
      body: { id, object: 'project.deleted', deleted: true },
    });
    expect(await statusWith(key)).toBe(401);
    expect((await call('GET', `/admin/projects/${id}`, ADMIN_KEY)).status).toBe(404);
    const { rows } = await stack.api.deps.db.$client.query('select id from threads where id = $1', [
      thread.id,
    ]);
    expect(rows).toEqual([]);
  });

  it('keeps the default project', async () => {
    const refused = await call('DELETE', '/admin/projects/proj_default', ADMIN_KEY);
    expect(refused.status).toBe(400);
  });

  it('makes keys with a role and an expiry, shows a key only once, and revokes it', async () => {
    const projectId = await newProject('keys');
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    const created = await newKey(projectId, { name: 'ci', role: 'admin', expires_at: expiresAt });
    expect(created).toMatchObject({
      object: 'key',
      name: 'ci',
      role: 'admin',
      project_id: projectId,
      expires_at: expiresAt,
      key: expect.stringMatching(/^sk-tw-/),
    });
    const listed = await call<{ data: Record<string, unknown>[] }>(
      'GET',
      `/admin/projects/${projectId}/keys`,
      ADMIN_KEY,
    );
    expect(listed.body.data).toEqual([{ ...created, key: undefined }].map(({ key: _key, ...rest }) => rest));
    const revoked = await call('DELETE', `/admin/projects/${projectId}/keys/${created.id}`, ADMIN_KEY);
    expect(revoked.body).toEqual({ id: created.id, object: 'key.deleted', deleted: true });
    expect(await statusWith(created.key)).toBe(401);
    expect((await call('GET', `/admin/projects/${projectId}/keys`, ADMIN_KEY)).body.data).toEqual([]);
  });

  it('refuses an expiry in the past, and stops an expiring key when its time comes', async () => {
    const projectId = await newProject('expiry');
    const past = await call('POST', `/admin/projects/${projectId}/keys`, ADMIN_KEY, {
      name: 'old',
      expires_at: 1,
    });
    expect(past.status).toBe(400);
    const soon = await newKey(projectId, { name: 'soon', expires_at: Math.floor(Date.now() / 1000) + 2 });
    expect(await statusWith(soon.key)).toBe(200);
    // The key was verified and is remembered for a minute: its expiry still holds.
    const deadline = Date.now() + 10_000;
    let status = await statusWith(soon.key);
    while (status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await statusWith(soon.key);
    }
    expect(status).toBe(401);
  });

  it("lets a project's admin key manage its own project only", async () => {
    const ours = await newProject('ours');
    const theirs = await newProject('theirs');
    const admin = (await newKey(ours, { name: 'project admin', role: 'admin' })).key;
    expect((await newKey(ours, { name: 'made by the project admin' }, admin)).project_id).toBe(ours);
    expect((await call<{ data: { id: string }[] }>('GET', '/admin/projects', admin)).body.data).toEqual([
      expect.objectContaining({ id: ours }),
    ]);
    for (const [method, path] of [
      ['GET', `/admin/projects/${theirs}`],
      ['GET', `/admin/projects/${theirs}/keys`],
      ['POST', `/admin/projects/${theirs}/keys`],
    ] as const) {
      const answer = await call(method, path, admin, method === 'POST' ? { name: 'x' } : undefined);
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
    expect((await call('POST', '/admin/projects', admin, { name: 'more' })).status).toBe(403);
    expect((await call('DELETE', `/admin/projects/${ours}`, admin)).status).toBe(403);
    expect((await call('GET', '/admin/keys', admin)).status).toBe(403);
    const server = (await newKey(ours, { name: 'server' })).key;
    expect((await call('GET', '/admin/projects', server)).status).toBe(403);
    expect((await call('GET', `/admin/projects/${ours}/keys`, server)).status).toBe(403);
  });

  it('makes POST /admin/keys keys in the default project (a "user" key is a server key)', async () => {
    const created = await call<CreatedKey>('POST', '/admin/keys', ADMIN_KEY, {
      name: 'legacy',
      role: 'user',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ role: 'server', project_id: 'proj_default' });
  });
});

describe('key rotation', () => {
  it('keeps every thread, message and assistant of the project when a new key replaces the old one', async () => {
    const projectId = await newProject('rotation');
    const old = await newKey(projectId, { name: 'old' });
    const before = sdkClient(stack.baseURL, old.key);
    const assistant = await before.beta.assistants.create({ model: 'offline', name: 'kept' });
    const thread = await before.beta.threads.create({ messages: [{ role: 'user', content: 'remember me' }] });

    const replacement = await newKey(projectId, { name: 'new' });
    await call('DELETE', `/admin/projects/${projectId}/keys/${old.id}`, ADMIN_KEY);
    const after = sdkClient(stack.baseURL, replacement.key);

    await expect(before.beta.threads.retrieve(thread.id)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await after.beta.threads.retrieve(thread.id)).id).toBe(thread.id);
    const messages = await after.beta.threads.messages.list(thread.id);
    expect(messages.data.map((message) => message.content[0])).toEqual([
      expect.objectContaining({ text: expect.objectContaining({ value: 'remember me' }) }),
    ]);
    expect((await after.beta.assistants.retrieve(assistant.id)).name).toBe('kept');
  });

  it('keeps projects apart: another project answers 404 on the thread', async () => {
    const [a, b] = await Promise.all([stack.newUser('a'), stack.newUser('b')]);
    const thread = await a.client.beta.threads.create();
    await expect(b.client.beta.threads.retrieve(thread.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe("a project's tool settings", () => {
  it("turn built-in tools off for the project's runs, set by the project's admin keys", async () => {
    const id = await newProject('no sql');
    const projectAdmin = await newKey(id, { name: 'admin', role: 'admin' });
    const set = await call('POST', `/admin/projects/${id}`, projectAdmin.key, {
      disabled_tools: ['run_sql', 'list_tables', 'run_sql'],
    });
    expect(set).toMatchObject({ status: 200, body: { disabled_tools: ['list_tables', 'run_sql'] } });
    const unknown = await call('POST', `/admin/projects/${id}`, ADMIN_KEY, { disabled_tools: ['rm_rf'] });
    expect(unknown.status).toBe(400);
    const client = sdkClient(stack.baseURL, (await newKey(id, { name: 'server' })).key);
    const assistant = await client.beta.assistants.create({
      model: 'offline',
      tools: [{ type: 'list_tables' } as unknown as OpenAI.Beta.AssistantTool],
    });
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'What tables do I have?' }],
    });
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
    const steps = JSON.stringify(
      (await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data,
    );
    expect(steps).toContain('disabled in this project');
  });
});

describe("a project's product catalog", () => {
  const catalogOf = (name: string) => ({ products: [{ id: 'p-1', name, description: 'dog food' }] });

  it("is imported and read by the project's admin keys; another project's keys get 404, server keys 403", async () => {
    const [a, b] = [await newProject('shop a'), await newProject('shop b')];
    const adminA = await newKey(a, { name: 'admin a', role: 'admin' });
    const adminB = await newKey(b, { name: 'admin b', role: 'admin' });
    const serverB = await newKey(b, { name: 'server b' });
    const imported = await call('POST', `/admin/projects/${a}/catalog`, adminA.key, catalogOf('Food of A'));
    expect(imported).toMatchObject({ status: 200, body: { status: 'imported', count: 1 } });
    const state = await call('GET', `/admin/projects/${a}/catalog`, adminA.key);
    expect(state.body).toEqual({
      object: 'catalog',
      project_id: a,
      product_count: 1,
      hash: imported.body.hash,
      imported_at: expect.any(Number),
    });
    const missing = `/admin/projects/proj_0000000000000000000000000/catalog`;
    for (const path of [`/admin/projects/${a}/catalog`, missing]) {
      expect((await call('GET', path, adminB.key)).status).toBe(404);
      expect((await call('POST', path, adminB.key, catalogOf('Food of B'))).status).toBe(404);
    }
    expect((await call('POST', `/admin/projects/${b}/catalog`, serverB.key, catalogOf('x'))).status).toBe(
      403,
    );
    expect((await call('POST', '/admin/catalog', adminB.key, catalogOf('x'))).status).toBe(403);
    // The same content in B is B's own import; A keeps its catalog.
    const own = await call('POST', `/admin/projects/${b}/catalog`, adminB.key, catalogOf('Food of A'));
    expect(own.body).toMatchObject({ status: 'imported' });
    expect((await call('GET', `/admin/projects/${b}/catalog`, adminB.key)).body).toMatchObject({
      product_count: 1,
    });
    // POST /admin/catalog imports into the project a deployment admin acts in.
    const twoProducts = { products: [...catalogOf('x').products, { id: 'p-2', name: 'y' }] };
    const acting = await fetch(`${stack.api.url}/admin/catalog`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': 'application/json',
        'x-threadwork-project': b,
      },
      body: JSON.stringify(twoProducts),
    });
    expect(acting.status).toBe(200);
    expect((await call('GET', `/admin/projects/${b}/catalog`, adminB.key)).body).toMatchObject({
      product_count: 2,
    });
    expect((await call('GET', `/admin/projects/${a}/catalog`, adminA.key)).body).toMatchObject({
      product_count: 1,
    });
  });

  it("is searched by the project's own runs only", async () => {
    const [a, b] = [await newProject('shop c'), await newProject('shop d')];
    await call('POST', `/admin/projects/${a}/catalog`, ADMIN_KEY, catalogOf('Crunchy dog food of C'));
    const search = async (projectId: string) => {
      const client = sdkClient(stack.baseURL, (await newKey(projectId, { name: 'shopper' })).key);
      const assistant = await client.beta.assistants.create({
        model: 'offline',
        tools: [{ type: 'search_products' } as unknown as OpenAI.Beta.AssistantTool],
      });
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: 'show me dog food' }],
      });
      const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
      expect(run.status).toBe('completed');
      const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
      return JSON.stringify(steps.data);
    };
    expect(await search(a)).toContain('Crunchy dog food of C');
    expect(await search(b)).not.toContain('Crunchy dog food of C');
  });
});

describe("a project's tools database", () => {
  let own: TestDatabase;
  /** The own database's URL with a password (the shared test server trusts it), which must never be shown. */
  let ownUrl: string;

  beforeAll(async () => {
    own = await createEmptyDatabase(inject('databaseServerUrl'));
    const url = new URL(own.url);
    url.password = 'pw-never-shown';
    ownUrl = url.toString();
    const client = new pg.Client({ connectionString: own.url });
    await client.connect();
    await client.query('create table garden_beds (id int primary key, plant text)');
    await client.end();
  });

  afterAll(async () => {
    await own?.drop();
  });

  const setUrl = (projectId: string, url: string | null, key = ADMIN_KEY) =>
    call('POST', `/admin/projects/${projectId}`, key, { tools_database_url: url });

  it('is set by a deployment admin, validated, and never shown with its password', async () => {
    const id = await newProject('own tools');
    const set = await setUrl(id, ownUrl);
    expect(set.status).toBe(200);
    expect(set.body.tools_database_url).toBe(ownUrl.replace('pw-never-shown', '****'));
    const shown = JSON.stringify([
      (await call('GET', `/admin/projects/${id}`, ADMIN_KEY)).body,
      (await call('GET', '/admin/projects', ADMIN_KEY)).body,
    ]);
    expect(shown).toContain('****');
    expect(shown).not.toContain('pw-never-shown');
    const projectAdmin = await newKey(id, { name: 'admin', role: 'admin' });
    expect((await setUrl(id, ownUrl, projectAdmin.key)).status).toBe(403);
    const other = await newProject('another');
    for (const [projectId, url] of [
      [id, 'mysql://db.example/shop'],
      [id, 'postgres://db.example'],
      [id, stack.env.DATABASE_URL ?? ''],
      [id, stack.env.TOOLS_DATABASE_URL ?? ''],
      ['proj_default', ownUrl],
      [other, ownUrl],
    ] as const) {
      const refused = await setUrl(projectId, url);
      expect(refused.status, `${projectId} ${url}`).toBe(400);
      expect(refused.body).toMatchObject({ error: { param: 'tools_database_url' } });
    }
    expect((await setUrl(id, null)).body.tools_database_url).toBeNull();
  });

  it("is where the project's SQL tools act, and its tables outlive the project", async () => {
    const id = await newProject('garden');
    expect((await setUrl(id, ownUrl)).status).toBe(200);
    const client = sdkClient(stack.baseURL, (await newKey(id, { name: 'gardener' })).key);
    const assistant = await client.beta.assistants.create({
      model: 'offline',
      tools: [{ type: 'list_tables' } as unknown as OpenAI.Beta.AssistantTool],
    });
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'What tables do I have?' }],
    });
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
    expect(run.status).toBe('completed');
    const steps = JSON.stringify(
      (await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data,
    );
    expect(steps).toContain('garden_beds');
    expect(steps).not.toContain('customers');
    expect((await call('DELETE', `/admin/projects/${id}`, ADMIN_KEY)).status).toBe(200);
    const database = new pg.Client({ connectionString: own.url });
    await database.connect();
    const tables = await database.query("select tablename from pg_tables where schemaname = 'public'");
    const reader = projectToolsSpace(new URL(own.url).pathname.slice(1), id).readerRole;
    const roles = await database.query('select 1 from pg_roles where rolname = $1', [reader]);
    await database.end();
    expect(tables.rows).toEqual([{ tablename: 'garden_beds' }]);
    expect(roles.rowCount).toBe(0);
  });
});

describe('deleting a project', () => {
  it('drops its schema, with its tables, and its roles in the tools database', async () => {
    const id = await newProject('short-lived');
    const space = await prepareProjectToolsSpace(stack.toolsDatabase.url, id);
    const tools = new pg.Client({ connectionString: stack.toolsDatabase.url });
    await tools.connect();
    try {
      await tools.query(`create table ${space.schema}.notes (body text)`);
      const present = async () => {
        const schemas = await tools.query('select 1 from pg_namespace where nspname = $1', [space.schema]);
        const roles = await tools.query('select 1 from pg_roles where rolname = any($1::text[])', [
          [space.ownerRole, space.readerRole],
        ]);
        return { schemas: schemas.rowCount, roles: roles.rowCount };
      };
      expect(await present()).toEqual({ schemas: 1, roles: 2 });
      expect((await call('DELETE', `/admin/projects/${id}`, ADMIN_KEY)).status).toBe(200);
      expect(await present()).toEqual({ schemas: 0, roles: 0 });
    } finally {
      await tools.end();
    }
  });
});
