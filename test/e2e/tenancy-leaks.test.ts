// Every operation of the OpenAPI document, called by other tenants with a victim's ids in the path: another project,
// another end user of the same project, and an end user of the same name in another project. Each answer must be
// the one an id that does not exist gets (404 or 403: no data, no hint of existence), and lists must not show the
// victim's rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let paths: Record<string, Record<string, unknown>>;
let p1Key: string;
let p2Key: string;

interface Caller {
  name: string;
  key: string;
  user: string | null;
  /** Sees the victim's project-level rows (assistants): a fellow end user of the same project. */
  isSameProject: boolean;
}

/** The victim's ids, by path parameter; a secret text that must never appear in another tenant's answer. */
const victim: Record<string, string> = {};
const SECRET = 'victim-secret-text-7f3a';

const missing: Record<string, string> = {
  thread_id: 'thread_0000000000000000000000000',
  run_id: 'run_0000000000000000000000000',
  message_id: 'msg_0000000000000000000000000',
  assistant_id: 'asst_000000000000000000000000',
  step_id: 'step_0000000000000000000000000',
  project_id: 'proj_0000000000000000000000000',
  key_id: 'key_00000000000000000000000000',
  file_id: 'file-000000000000000000000000',
  vector_store_id: 'vs_000000000000000000000000',
  batch_id: 'vsfb_000000000000000000000000',
};

/** A body that passes validation where one is needed, so the ownership check is what answers. */
const BODIES: Record<string, unknown> = {
  '/v1/threads/{thread_id}/messages': { role: 'user', content: 'x' },
  '/v1/threads/{thread_id}/runs': { assistant_id: 'ASSISTANT' },
  '/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs': {
    tool_outputs: [{ tool_call_id: 'call_1', output: 'x' }],
  },
  '/api/messages/{message_id}/feedback': { rating: 1 },
  '/admin/projects/{project_id}/keys': { name: 'x' },
  '/v1/vector_stores/{vector_store_id}/search': { query: 'x' },
  '/v1/vector_stores/{vector_store_id}/files': { file_id: 'FILE' },
  '/v1/vector_stores/{vector_store_id}/files/{file_id}': { attributes: { a: 'b' } },
  '/v1/vector_stores/{vector_store_id}/file_batches': { file_ids: ['FILE'] },
};

/** What belongs to the project rather than to an end user: a fellow end user may see it by design. */
const PROJECT_WIDE = ['/v1/assistants', '/v1/files', '/v1/vector_stores'];

async function send(caller: Caller, method: string, path: string, body: unknown) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${caller.key}`,
    'content-type': 'application/json',
  };
  if (caller.user !== null) headers['x-threadwork-user'] = caller.user;
  const response = await fetch(`${stack.api.url}${path}`, {
    method: method.toUpperCase(),
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, text };
}

function fill(template: string, ids: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? `unknown_${name}`);
}

beforeAll(async () => {
  stack = await startStack({ RATE_LIMIT_PER_USER_PER_MINUTE: '100000', RATE_LIMIT_PER_MINUTE: '100000' });
  const p1 = await stack.newUser('project one');
  const p2 = await stack.newUser('project two');
  p1Key = p1.key;
  p2Key = p2.key;
  const alice = p1.client.withOptions({ defaultHeaders: { 'X-Threadwork-User': 'alice' } });
  const assistant = await p1.client.beta.assistants.create({ model: 'offline', instructions: SECRET });
  const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: SECRET }] });
  const run = await alice.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
  const [message] = (await alice.beta.threads.messages.list(thread.id)).data;
  const [step] = (await alice.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
  if (!message || !step) throw new Error('the victim has no message or step');
  const file = await p1.client.files.create({
    file: new File([SECRET], 'secret.txt'),
    purpose: 'assistants',
  });
  const store = await p1.client.vectorStores.create({ name: SECRET });
  const batch = await p1.client.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [file.id] });
  Object.assign(victim, {
    thread_id: thread.id,
    run_id: run.id,
    message_id: message.id,
    assistant_id: assistant.id,
    step_id: step.id,
    project_id: p1.projectId,
    key_id: 'key_unknown',
    file_id: file.id,
    vector_store_id: store.id,
    batch_id: batch.id,
  });
  paths = ((await (await fetch(`${stack.api.url}/openapi.json`)).json()) as { paths: typeof paths }).paths;
});

afterAll(async () => {
  await stack?.close();
});

describe('other tenants calling every operation with the victim ids', () => {
  it('get the answer of an id that does not exist, and never the victim data', async () => {
    const callers: Caller[] = [
      { name: 'another end user of the project', key: p1Key, user: 'bob', isSameProject: true },
      { name: 'another project', key: p2Key, user: null, isSameProject: false },
      { name: 'the same end-user id in another project', key: p2Key, user: 'alice', isSameProject: false },
    ];
    const leaks: string[] = [];
    let checked = 0;
    for (const [template, methods] of Object.entries(paths)) {
      if (!/^\/(v1|api|admin)\//.test(template) || !template.includes('{')) continue;
      for (const method of Object.keys(methods)) {
        for (const caller of callers) {
          if (caller.isSameProject && PROJECT_WIDE.some((prefix) => template.startsWith(prefix))) continue;
          const rawBody = method === 'get' || method === 'delete' ? undefined : (BODIES[template] ?? {});
          const body =
            JSON.parse(
              JSON.stringify(rawBody ?? null)
                ?.replace('ASSISTANT', victim.assistant_id ?? '')
                .replace('FILE', victim.file_id ?? '') ?? 'null',
            ) ?? undefined;
          const real = await send(caller, method, fill(template, victim), body);
          const fake = await send(caller, method, fill(template, missing), body);
          checked += 1;
          const normalize = (text: string, ids: Record<string, string>) =>
            Object.entries(ids).reduce((out, [name, id]) => out.replaceAll(id, `<${name}>`), text);
          const what = `${caller.name}: ${method.toUpperCase()} ${template}`;
          if (![403, 404].includes(real.status)) leaks.push(`${what} answered ${real.status}`);
          if (real.status !== fake.status || normalize(real.text, victim) !== normalize(fake.text, missing)) {
            leaks.push(`${what} answered differently for a real id: ${real.text} vs ${fake.text}`);
          }
          if (real.text.includes(SECRET)) leaks.push(`${what} showed the victim's text`);
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect(leaks).toEqual([]);
  });

  it("answers the victim's ids in bodies as ids that do not exist", async () => {
    const other: Caller = { name: 'another project', key: p2Key, user: null, isSameProject: false };
    const bob: Caller = { name: 'another end user', key: p1Key, user: 'bob', isSameProject: true };
    const own = JSON.parse((await send(other, 'post', '/v1/threads', {})).text) as { id: string };
    const attempts: [Caller, string, (ids: Record<string, string>) => unknown][] = [
      [other, `/v1/threads/${own.id}/runs`, (ids) => ({ assistant_id: ids.assistant_id })],
      [other, '/v1/threads/runs', (ids) => ({ assistant_id: ids.assistant_id })],
      [other, '/api/chat', (ids) => ({ message: 'x', assistant_id: ids.assistant_id })],
      [other, '/api/threads', (ids) => ({ assistant_id: ids.assistant_id, reuse: true })],
      [other, '/api/chat', (ids) => ({ message: 'x', thread_id: ids.thread_id })],
      [bob, '/api/chat', (ids) => ({ message: 'x', thread_id: ids.thread_id })],
    ];
    for (const [caller, path, body] of attempts) {
      const real = await send(caller, 'post', path, body(victim));
      const fake = await send(caller, 'post', path, body(missing));
      const normalize = (text: string, ids: Record<string, string>) =>
        Object.entries(ids).reduce((out, [name, id]) => out.replaceAll(id, `<${name}>`), text);
      expect(real.status, `${caller.name}: POST ${path}`).toBe(404);
      expect(normalize(real.text, victim)).toBe(normalize(fake.text, missing));
    }
  });

  it("lists none of the victim's threads to another end user or project", async () => {
    for (const [key, user] of [
      [p1Key, 'bob'],
      [p2Key, null],
      [p2Key, 'alice'],
    ] as const) {
      const listed = await send(
        { name: '', key, user, isSameProject: false },
        'get',
        '/api/threads?limit=100',
        undefined,
      );
      expect(listed.status).toBe(200);
      expect(listed.text).not.toContain(victim.thread_id);
    }
    const assistants = await send(
      { name: '', key: p2Key, user: null, isSameProject: false },
      'get',
      '/v1/assistants?limit=100',
      undefined,
    );
    expect(assistants.text).not.toContain(victim.assistant_id);
  });
});
