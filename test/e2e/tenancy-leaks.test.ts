// Two projects, each with a server key and two end users (one named by a server key's X-Threadwork-User, one with
// its own HS256 token), attack each other: every operation of the OpenAPI document (and the queue dashboard, which it
// leaves out), every method (HEAD too), with the others' ids in paths, in bodies and in list cursors and filters. Each answer
// must be the one an id that does not exist gets (404 or 403: no data, no hint of existence).
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

const JWT_SECRET = 'leak-test-hs256-secret-with-enough-length';

let stack: Stack;
let paths: Record<string, Record<string, Operation>>;

interface Operation {
  parameters?: { name: string; in: 'path' | 'query' }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
}

type Way = 'key' | 'header' | 'jwt';

interface Caller {
  name: string;
  project: string;
  way: Way;
  /** The end user it is; null for the project's server key. */
  user: string | null;
  headers: Record<string, string>;
  /** Ids of its own rows, by path parameter. */
  own: Record<string, string>;
}

type ScopeKind = 'assistant' | 'files' | 'backend' | 'project-thread' | 'end-user';

/**
 * Rows of one owner: a project's assistant, its files and vector store, its backend objects, its own thread, or one
 * end user's thread.
 */
interface Scope {
  name: string;
  project: string;
  kind: ScopeKind;
  user: string | null;
  ids: Record<string, string>;
  /** Text only this scope's rows hold. */
  secret: string;
}

const callers: Caller[] = [];
const scopes: Scope[] = [];

const missing: Record<string, string> = {
  thread_id: 'thread_0000000000000000000000000',
  run_id: 'run_0000000000000000000000000',
  message_id: 'msg_0000000000000000000000000',
  assistant_id: 'asst_000000000000000000000000',
  step_id: 'step_0000000000000000000000000',
  project_id: 'proj_0000000000000000000000000',
  key_id: 'key_00000000000000000000000000',
  webhook_id: 'wh_000000000000000000000000000',
  file_id: 'file-000000000000000000000000',
  vector_store_id: 'vs_000000000000000000000000',
  batch_id: 'vsfb_000000000000000000000000',
};

/** A body that passes validation where one is needed, so the ownership check is what answers. */
const BODIES: Record<string, unknown> = {
  '/v1/threads/{thread_id}/messages': { role: 'user', content: 'x' },
  '/v1/threads/{thread_id}/runs': { assistant_id: 'OWN_ASSISTANT' },
  '/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs': {
    tool_outputs: [{ tool_call_id: 'call_1', output: 'x' }],
  },
  '/api/messages/{message_id}/feedback': { rating: 1 },
  '/admin/projects/{project_id}/keys': { name: 'x' },
  '/admin/projects/{project_id}/catalog': { products: [{ id: 'x', name: 'x' }] },
  '/v1/vector_stores/{vector_store_id}/search': { query: 'x' },
  '/v1/vector_stores/{vector_store_id}/files': { file_id: 'OWN_FILE' },
  '/v1/vector_stores/{vector_store_id}/files/{file_id}': { attributes: { a: 'b' } },
  '/v1/vector_stores/{vector_store_id}/file_batches': { file_ids: ['OWN_FILE'] },
};

/** Whether the caller may see the scope's rows by design (then attacking them proves nothing). */
function canSee(caller: Caller, scope: Scope): boolean {
  if (caller.project !== scope.project) return false;
  switch (scope.kind) {
    case 'assistant':
      // Its end users run with the project's assistants (their tokens cannot read or change them: 403).
      return true;
    case 'files':
      // A project's files and vector stores are its own, shared by its keys and end users.
      return true;
    case 'backend':
      return caller.way !== 'jwt';
    case 'project-thread':
      return caller.way === 'key';
    case 'end-user':
      return caller.way === 'key' || caller.user === scope.user;
  }
}

interface Answer {
  status: number;
  text: string;
}

async function send(caller: Caller, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${stack.api.url}${path}`, {
    method: method.toUpperCase(),
    headers: { 'content-type': 'application/json', ...caller.headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, text: await response.text() };
}

const answersAboutMissingIds = new Map<string, Promise<Answer>>();

/** `send` for requests about ids that do not exist: they change nothing, so one answer serves every attack. */
function sendOnce(caller: Caller, method: string, path: string, body?: unknown): Promise<Answer> {
  const request = `${caller.name} ${method} ${path} ${JSON.stringify(body)}`;
  let answer = answersAboutMissingIds.get(request);
  if (!answer) {
    answer = send(caller, method, path, body);
    answersAboutMissingIds.set(request, answer);
  }
  return answer;
}

function fill(template: string, ids: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? missing[name] ?? `unknown_${name}`);
}

/** The answer with each id replaced by its name, so answers about different ids compare. */
function normalize(text: string, ids: Record<string, string>): string {
  return Object.entries(ids).reduce((out, [name, id]) => out.replaceAll(id, `<${name}>`), text);
}

/** The same id with its last character changed: sorts next to it, and exists nowhere. */
function twin(id: string): string {
  return `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`;
}

function opaqueCursor(id: string): string {
  return Buffer.from(JSON.stringify([Date.now(), id])).toString('base64url');
}

/**
 * What went wrong in a pair of answers, one about the victim's ids (`realIds`) and one about ids that do not exist
 * (`fakeIds`): a status other than `okStatuses`, any difference once the ids are named, any text of a scope the caller
 * may not see.
 */
function leaksIn(
  caller: Caller,
  what: string,
  [real, fake]: [Answer, Answer],
  [realIds, fakeIds]: [Record<string, string>, Record<string, string>],
  okStatuses: number[],
): string[] {
  const found: string[] = [];
  if (!okStatuses.includes(real.status))
    found.push(`${what} answered ${real.status}: ${real.text.slice(0, 200)}`);
  const [realText, fakeText] = [normalize(real.text, realIds), normalize(fake.text, fakeIds)];
  if (real.status !== fake.status || realText !== fakeText) {
    found.push(
      `${what} answered differently for a real id: ${realText.slice(0, 300)} vs ${fakeText.slice(0, 300)}`,
    );
  }
  for (const scope of scopes.filter((hidden) => !canSee(caller, hidden))) {
    if (real.text.includes(scope.secret)) found.push(`${what} showed ${scope.name}'s text`);
    const shown = Object.values(scope.ids).filter((id) => realText.includes(id));
    if (shown.length > 0) found.push(`${what} showed ${scope.name}'s ids ${shown.join(', ')}`);
  }
  return found;
}

function operations(): { template: string; method: string; operation: Operation }[] {
  return Object.entries(paths).flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ template, method, operation })),
  );
}

async function asJson<T>(answer: Promise<Answer>): Promise<T> {
  const { status, text } = await answer;
  if (status >= 300) throw new Error(`set-up request answered ${status}: ${text}`);
  return JSON.parse(text) as T;
}

function hs256(sub: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(JWT_SECRET));
}

interface ChatAnswer {
  thread_id: string;
  run_id: string;
  message_id: string;
}

/** A conversation of the caller (a thread, its messages, a run and its step) holding `secret`. */
async function converse(caller: Caller, server: Caller, secret: string): Promise<Record<string, string>> {
  const chat = await asJson<ChatAnswer>(send(caller, 'post', '/api/chat', { message: `tell me ${secret}` }));
  const steps = await asJson<{ data: { id: string }[] }>(
    send(server, 'get', `/v1/threads/${chat.thread_id}/runs/${chat.run_id}/steps`),
  );
  await asJson(send(caller, 'post', `/api/messages/${chat.message_id}/feedback`, { rating: 1 }));
  return {
    thread_id: chat.thread_id,
    run_id: chat.run_id,
    message_id: chat.message_id,
    step_id: steps.data[0]?.id ?? 'no step',
  };
}

/** A file holding `secret`, in a vector store named `secret`, added by a batch. */
async function storedFile(server: Caller, secret: string): Promise<Record<string, string>> {
  const form = new FormData();
  form.append('purpose', 'assistants');
  form.append('file', new Blob([`The answer is ${secret}.`]), `${secret}.txt`);
  const uploaded = await fetch(`${stack.api.url}/v1/files`, {
    method: 'POST',
    headers: server.headers,
    body: form,
  });
  const file = await asJson<{ id: string }>(
    uploaded.text().then((text) => ({ status: uploaded.status, text })),
  );
  const store = await asJson<{ id: string }>(send(server, 'post', '/v1/vector_stores', { name: secret }));
  const batch = await asJson<{ id: string }>(
    send(server, 'post', `/v1/vector_stores/${store.id}/file_batches`, { file_ids: [file.id] }),
  );
  return { file_id: file.id, vector_store_id: store.id, batch_id: batch.id };
}

async function setUpProject(name: string): Promise<void> {
  const project = await stack.adminPost<{ id: string }>('/admin/projects', {
    name,
    end_user_auth: { jwt_secret: JWT_SECRET },
  });
  const key = await stack.adminPost<{ id: string; key: string }>(`/admin/projects/${project.id}/keys`, {
    name: 'backend',
  });
  const bearer = { authorization: `Bearer ${key.key}` };
  const server: Caller = {
    name: `${name} server key`,
    project: project.id,
    way: 'key',
    user: null,
    headers: bearer,
    own: {},
  };
  const alice: Caller = {
    name: `${name} alice (header)`,
    project: project.id,
    way: 'header',
    user: 'alice',
    headers: { ...bearer, 'x-threadwork-user': 'alice' },
    own: {},
  };
  const bob: Caller = {
    name: `${name} bob (token)`,
    project: project.id,
    way: 'jwt',
    user: 'bob',
    headers: { authorization: `Bearer ${await hs256('bob')}`, 'x-threadwork-project': project.id },
    own: {},
  };
  const scope = (kind: ScopeKind, user: string | null, ids: Record<string, string>, secret: string) =>
    scopes.push({
      name: `${name} ${kind}${user ? ` ${user}` : ''}`,
      project: project.id,
      kind,
      user,
      ids,
      secret,
    });
  const assistantSecret = `${name}-assistant-secret`;
  const assistant = await asJson<{ id: string }>(
    send(server, 'post', '/v1/assistants', { model: 'offline', instructions: assistantSecret }),
  );
  scope('assistant', null, { assistant_id: assistant.id }, assistantSecret);
  const webhook = await asJson<{ id: string }>(
    send(server, 'post', '/admin/webhooks', { url: 'http://127.0.0.1:9/never-called' }),
  );
  scope(
    'backend',
    null,
    { project_id: project.id, key_id: key.id, webhook_id: webhook.id },
    `${name}-no-text`,
  );
  const filesSecret = `${name}-files-secret`;
  const files = await storedFile(server, filesSecret);
  scope('files', null, files, filesSecret);
  for (const [caller, kind] of [
    [server, 'project-thread'],
    [alice, 'end-user'],
    [bob, 'end-user'],
  ] as const) {
    const secret = `${name}-${caller.user ?? 'project'}-secret`;
    const conversation = await converse(caller, server, secret);
    caller.own = { ...conversation, ...files, assistant_id: assistant.id, project_id: project.id };
    scope(kind, caller.user, conversation, secret);
  }
  callers.push(server, alice, bob);
}

beforeAll(async () => {
  stack = await startStack({
    RATE_LIMIT_PER_USER_PER_MINUTE: '100000',
    RATE_LIMIT_PER_MINUTE: '100000',
    RATE_LIMIT_INVALID_AUTH_PER_MINUTE: '100000',
    WEBHOOK_ALLOW_PRIVATE: 'true',
  });
  await setUpProject('one');
  await setUpProject('two');
  paths = ((await (await fetch(`${stack.api.url}/openapi.json`)).json()) as { paths: typeof paths }).paths;
});

afterAll(async () => {
  await stack?.close();
});

/** Runs `attack` for each caller against each scope it may not see: the callers at once, each one's attacks in turn. */
async function attackAll(attack: (caller: Caller, scope: Scope) => Promise<void>): Promise<void> {
  await Promise.all(
    callers.map(async (caller) => {
      for (const scope of scopes.filter((hidden) => !canSee(caller, hidden))) await attack(caller, scope);
    }),
  );
}

describe('two projects × two end users (header and token) attacking each other', () => {
  it("answer every operation with another's ids in the path as if the ids did not exist", async () => {
    const leaks: string[] = [];
    let checked = 0;
    // HEAD too: express answers it with the GET handler, without the body.
    const withHead = operations().flatMap((entry) =>
      entry.method === 'get' ? [entry, { ...entry, method: 'head' }] : [entry],
    );
    for (const { template, method } of withHead) {
      if (!/^\/(v1|api|admin)\//.test(template) || !template.includes('{')) continue;
      const names = [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
      await attackAll(async (caller, scope) => {
        if (!names.some((name) => scope.ids[name])) return;
        const rawBody = ['get', 'head', 'delete'].includes(method) ? undefined : (BODIES[template] ?? {});
        const body = JSON.parse(
          JSON.stringify(rawBody ?? null)
            .replace('OWN_ASSISTANT', caller.own.assistant_id ?? '')
            .replace('OWN_FILE', caller.own.file_id ?? ''),
        ) as unknown;
        // The victim's ids throughout, and the caller's own parent with the victim's child (thread, then run).
        const variants = [scope.ids];
        const [parent] = names;
        if (names.length > 1 && parent && caller.own[parent] && scope.ids[names[1] ?? '']) {
          variants.push({ ...scope.ids, [parent]: caller.own[parent] });
        }
        for (const ids of variants) {
          const victimIds = Object.fromEntries(
            Object.entries(ids).filter(([name, id]) => scope.ids[name] === id),
          );
          const fakeIds = Object.fromEntries(
            Object.keys(victimIds).map((name) => [name, missing[name] ?? '']),
          );
          const what = `${caller.name} → ${scope.name}: ${method.toUpperCase()} ${template}`;
          const real = await send(caller, method, fill(template, ids), body ?? undefined);
          const fake = await sendOnce(
            caller,
            method,
            fill(template, { ...ids, ...fakeIds }),
            body ?? undefined,
          );
          checked += 1;
          leaks.push(...leaksIn(caller, what, [real, fake], [victimIds, fakeIds], [403, 404]));
        }
      });
    }
    expect(leaks).toEqual([]);
    expect(checked).toBeGreaterThan(1_200);
  });

  it("answer another's ids in bodies as ids that do not exist", async () => {
    const attempts: [path: string, body: (id: string) => unknown, idName: string][] = [
      ['/v1/threads/{thread_id}/runs', (id) => ({ assistant_id: id }), 'assistant_id'],
      ['/v1/threads/runs', (id) => ({ assistant_id: id }), 'assistant_id'],
      ['/api/chat', (id) => ({ message: 'x', assistant_id: id }), 'assistant_id'],
      ['/api/chat', (id) => ({ message: 'x', thread_id: id }), 'thread_id'],
      ['/api/chat/stream', (id) => ({ message: 'x', assistant_id: id }), 'assistant_id'],
      ['/api/chat/stream', (id) => ({ message: 'x', thread_id: id }), 'thread_id'],
      ['/api/threads', (id) => ({ assistant_id: id, reuse: true }), 'assistant_id'],
      ['/v1/vector_stores/{vector_store_id}/files', (id) => ({ file_id: id }), 'file_id'],
      ['/v1/vector_stores/{vector_store_id}/file_batches', (id) => ({ file_ids: [id] }), 'file_id'],
      ['/v1/vector_stores', (id) => ({ file_ids: [id] }), 'file_id'],
    ];
    const covered = new Set(attempts.map(([path, , idName]) => `${path} ${idName}`));
    // Every id a documented body takes is attacked above, but a call id (it names a call of the caller's own run) and
    // a message attachment's file id.
    const documented = operations().flatMap(({ template, operation }) =>
      idProperties(operation.requestBody?.content['application/json']?.schema).map(
        (name) => `${template} ${name}`,
      ),
    );
    const isExempt = (entry: string) =>
      entry.endsWith(' tool_call_id') || (entry.endsWith(' file_id') && entry.includes('/threads'));
    expect(documented.filter((entry) => !covered.has(entry) && !isExempt(entry))).toEqual([]);
    const leaks: string[] = [];
    await attackAll(async (caller, scope) => {
      for (const [path, body, idName] of attempts) {
        const id = scope.ids[idName];
        if (!id) continue;
        const url = fill(path, caller.own);
        const real = await send(caller, 'post', url, body(id));
        const fake = await send(caller, 'post', url, body(missing[idName] ?? ''));
        const what = `${caller.name} → ${scope.name}: POST ${path} {${idName}}`;
        leaks.push(
          ...leaksIn(
            caller,
            what,
            [real, fake],
            [{ [idName]: id }, { [idName]: missing[idName] ?? '' }],
            [403, 404],
          ),
        );
      }
    });
    expect(leaks).toEqual([]);
  });

  it("answer lists paged or filtered by another's ids as by ids that do not exist, without its rows", async () => {
    const leaks: string[] = [];
    let checked = 0;
    for (const { template, method, operation } of operations()) {
      if (method !== 'get' || !/^\/(v1|api|admin)\//.test(template)) continue;
      const params = (operation.parameters ?? [])
        .filter((param) => param.in === 'query')
        .map((param) => param.name)
        .filter((name) => ['after', 'before', 'cursor'].includes(name) || name.endsWith('_id'));
      for (const param of params) {
        await attackAll(async (caller, scope) => {
          const url = fill(template, caller.own);
          for (const id of cursorIds(template, param, scope)) {
            const [value, twinValue] =
              param === 'cursor' ? [opaqueCursor(id), opaqueCursor(twin(id))] : [id, twin(id)];
            const real = await send(caller, 'get', `${url}?${param}=${value}`);
            const fake = await send(caller, 'get', `${url}?${param}=${twinValue}`);
            checked += 1;
            const what = `${caller.name} → ${scope.name}: GET ${template}?${param}=<id>`;
            leaks.push(
              ...leaksIn(
                caller,
                what,
                [real, fake],
                [{ [param]: value }, { [param]: twinValue }],
                [200, 400, 403, 404],
              ),
            );
          }
        });
      }
    }
    expect(leaks).toEqual([]);
    expect(checked).toBeGreaterThan(200);
  });

  it('refuse the queue dashboard, which the document leaves out, to every project key and end user', async () => {
    for (const caller of callers) {
      const answer = await send(caller, 'get', '/admin/queues/api/queues');
      // An end user's token is no credential there at all (401); a project's key is not the deployment's admin (403).
      expect(answer.status, caller.name).toBe(caller.way === 'jwt' ? 401 : 403);
      for (const scope of scopes) expect(answer.text).not.toContain(scope.secret);
    }
  });
});

/**
 * The victim's ids to page or filter a list with: a filter takes the id it names; a cursor the id of the kind the
 * list holds (`/messages` pages by message ids), or each of the scope's ids when it holds none of that kind.
 */
function cursorIds(template: string, param: string, scope: Scope): string[] {
  if (param.endsWith('_id')) return scope.ids[param] ? [scope.ids[param]] : [];
  const listed = `${template.split('/').at(-1)?.replace(/s$/, '')}_id`;
  return scope.ids[listed] ? [scope.ids[listed]] : Object.values(scope.ids);
}

/** The names of the properties ending in `_id` anywhere in a JSON schema. */
function idProperties(schema: unknown): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  const node = schema as { properties?: Record<string, unknown> };
  const own = Object.keys(node.properties ?? {}).filter((name) => name.endsWith('_id'));
  return [...new Set([...own, ...Object.values(schema).flatMap(idProperties)])];
}
