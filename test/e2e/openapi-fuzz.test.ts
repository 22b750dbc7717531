// A seeded fuzzer over the OpenAPI document: every operation, path ids replaced by hostile ones, queries and bodies
// generated from the request schemas with hostile values (NUL, lone surrogates, huge numbers, deep nesting, wrong
// types, strings up to the body limit). No answer may be a 5xx, and the API must still answer /healthz after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

const SEED = 20;
const REQUESTS_PER_OPERATION = 64;
const CONCURRENCY = 4;
const REQUEST_TIMEOUT_MS = 10_000;
/** Replaced, in the serialized body, by JSON nested this deep (building it as a value would be slow to stringify). */
const DEEP_MARKER = '__fuzz_deep__';
const DEEP_LEVELS = 5_000;
const BODY_LIMIT_BYTES = 1024 * 1024;

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  format?: string;
  $ref?: string;
};

interface Parameter {
  name: string;
  in: 'path' | 'query';
  schema: JsonSchema;
}

interface OperationObject {
  parameters: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** mulberry32: small, fast and the same on every machine, so a failure names a seed that repeats it. */
class Random {
  constructor(private state: number) {}

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

const HOSTILE_STRINGS = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ud83d',
  '😀',
  '',
  ' ',
  '%00',
  '../../etc/passwd',
  "'; select pg_sleep(10); --",
  '<script>alert(1)</script>',
  '\u202e\ufeff\u200b',
  'x'.repeat(5_000),
];
const HOSTILE_NUMBERS = [
  2_147_483_648, -2_147_483_649, 2_147_483_647, 9_007_199_254_740_992, 1e308, -1e308, -1, 0, 1.5, 256, 1e-300,
];
const HOSTILE_VALUES: unknown[] = [null, true, {}, [], [null], { a: { b: {} } }, DEEP_MARKER, DEEP_MARKER];
const HOSTILE_IDS = [
  '%00',
  'thread_%00',
  'a%00b',
  '%ED%A0%80',
  '%ZZ',
  '%F0%9F%98%80',
  'a%2Fb',
  "'",
  'x'.repeat(4_000),
  'asst_zzzzzzzzzzzzzzzzzzzzzzzz',
  '..',
  '-1',
  '2147483648',
];

function hostileValue(random: Random): unknown {
  const kind = random.int(4);
  if (kind === 0) return random.pick(HOSTILE_STRINGS);
  if (kind === 1) return random.pick(HOSTILE_NUMBERS);
  return random.pick(HOSTILE_VALUES);
}

function stringFor(schema: JsonSchema, random: Random): string {
  if (schema.format === 'uri') return random.pick(['https://example.com/a.png', 'javascript:alert(1)', 'x']);
  const roll = random.int(4);
  if (roll === 0) return random.pick(HOSTILE_STRINGS);
  if (roll === 1 && schema.maxLength !== undefined) return 'y'.repeat(schema.maxLength + 1);
  return random.pick([
    'hello',
    'offline',
    'user',
    'auto',
    'function',
    'text',
    'json_schema',
    'last_messages',
  ]);
}

function numberFor(schema: JsonSchema, random: Random): number {
  const roll = random.int(4);
  if (roll === 0 && schema.maximum !== undefined) return schema.maximum + 1;
  if (roll === 1 && schema.minimum !== undefined) return schema.minimum;
  return random.pick(HOSTILE_NUMBERS);
}

function objectFor(schema: JsonSchema, random: Random, depth: number): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (schema.required?.includes(key) || random.chance(0.5))
      value[key] = fromSchema(property, random, depth + 1);
  }
  if (!schema.properties || random.chance(0.1)) {
    const count = random.int(4);
    for (let index = 0; index < count; index += 1) {
      value[random.pick(['k', 'a\u0000', '\ud800', 'x'.repeat(100), 'name'])] = hostileValue(random);
    }
  }
  return value;
}

/** A value for `schema`: mostly what it asks for (so requests get past the first check), often something hostile. */
function fromSchema(schema: JsonSchema, random: Random, depth = 0): unknown {
  if (depth > 6 || schema.$ref || random.chance(0.15)) return hostileValue(random);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return fromSchema(random.pick(variants), random, depth + 1);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return random.pick(schema.enum);
  const type = Array.isArray(schema.type) ? random.pick(schema.type) : schema.type;
  switch (type) {
    case 'object':
      return objectFor(schema, random, depth);
    case 'array': {
      // One item past the maximum is enough to test the bound; a cheap one, so bodies stay small.
      if (schema.maxItems !== undefined && random.chance(0.1)) return Array(schema.maxItems + 1).fill(0);
      return Array.from({ length: random.int(3) }, () => fromSchema(schema.items ?? {}, random, depth + 1));
    }
    case 'string':
      return stringFor(schema, random);
    case 'integer':
    case 'number':
      return numberFor(schema, random);
    case 'boolean':
      return random.chance(0.5);
    case 'null':
      return null;
    default:
      return hostileValue(random);
  }
}

function serialize(value: unknown): string {
  const deep = `${'['.repeat(DEEP_LEVELS)}1${']'.repeat(DEEP_LEVELS)}`;
  return JSON.stringify(value).replaceAll(`"${DEEP_MARKER}"`, deep);
}

function encodeQueryValue(value: unknown): string {
  const text = typeof value === 'string' ? value : serialize(value);
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

/** A body of a shape no schema describes: broken JSON, the wrong media type, over the limit, a CSV with NUL. */
function strangeBody(random: Random): { body: string; type: string } {
  return random.pick([
    { body: '{"a":', type: 'application/json' },
    { body: 'null', type: 'application/json' },
    { body: '"\\ud800"', type: 'application/json' },
    { body: '{"a":1}', type: 'text/plain' },
    { body: '{"a":1}', type: 'application/json; charset=latin1' },
    { body: `{"s":"${'z'.repeat(BODY_LIMIT_BYTES)}"}`, type: 'application/json' },
    { body: 'id,name\n1,a\u0000b\n', type: 'text/csv' },
    { body: 'id,name\n"unterminated\n', type: 'text/csv' },
  ]);
}

function requestFor(
  method: string,
  template: string,
  operation: OperationObject,
  ids: Record<string, string>,
  keys: { user: string; admin: string },
  random: Random,
): FuzzRequest {
  let path = template;
  for (const parameter of operation.parameters.filter((candidate) => candidate.in === 'path')) {
    const real = ids[parameter.name];
    const id = real && method !== 'delete' && random.chance(0.5) ? real : random.pick(HOSTILE_IDS);
    path = path.replace(`{${parameter.name}}`, id);
  }
  const query = operation.parameters
    .filter((parameter) => parameter.in === 'query' && random.chance(0.6))
    .map((parameter) => `${parameter.name}=${encodeQueryValue(fromSchema(parameter.schema, random))}`);
  if (random.chance(0.1)) query.push(random.pick(['after[a]=b', 'limit=%00', 'order[]=asc', 'x=%ED%A0%80']));
  if (query.length > 0) path = `${path}?${query.join('&')}`;
  const key = template.startsWith('/admin') ? keys.admin : keys.user;
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  const schema = operation.requestBody?.content['application/json']?.schema;
  if (!schema || method === 'get') return { method, path, headers };
  if (random.chance(0.1)) {
    const strange = strangeBody(random);
    return { method, path, headers: { ...headers, 'content-type': strange.type }, body: strange.body };
  }
  const value = fromSchema(schema, random);
  // Now and then one string field as long as the body limit allows.
  const stringField = Object.entries(schema.properties ?? {}).find(
    ([, property]) => property.type === 'string',
  );
  if (stringField && value && typeof value === 'object' && random.chance(0.03))
    Object.assign(value, { [stringField[0]]: 'h'.repeat(BODY_LIMIT_BYTES - 4_096) });
  const body = serialize(value);
  return { method, path, headers: { ...headers, 'content-type': 'application/json' }, body };
}

let stack: Stack;
let document: { paths: Record<string, Record<string, OperationObject>> };
const keys = { user: '', admin: ADMIN_KEY };
const ids: Record<string, string> = {};

beforeAll(async () => {
  stack = await startStack(
    {
      RATE_LIMIT_PER_MINUTE: '1000000',
      CHAT_WAIT_TIMEOUT_MS: '100',
      SSE_MAX_LIFETIME_MS: '300',
      SSE_HEARTBEAT_MS: '100',
    },
    { runWorker: false, toolWorker: false },
  );
  const user = await stack.newUser('fuzzer');
  keys.user = user.key;
  const assistant = await user.client.beta.assistants.create({ model: 'offline' });
  const thread = await user.client.beta.threads.create({ messages: [{ role: 'user', content: 'hello' }] });
  const messages = await user.client.beta.threads.messages.list(thread.id);
  const run = await user.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
  Object.assign(ids, {
    assistant_id: assistant.id,
    thread_id: thread.id,
    message_id: messages.data[0]?.id ?? '',
    run_id: run.id,
  });
  document = (await (await fetch(`${stack.api.url}/openapi.json`)).json()) as typeof document;
});

afterAll(async () => {
  await stack?.close();
});

/** How many answers had each status class (`2xx`, `4xx`…): a fuzzer that never gets past validation tests little. */
const answered = new Map<string, number>();

/** Sends one request; answers a line describing it when the answer was a 5xx or never came. */
async function failureOf(request: FuzzRequest): Promise<string | null> {
  const describe = `${request.method.toUpperCase()} ${request.path.slice(0, 160)} ${request.body?.slice(0, 160) ?? ''}`;
  try {
    const response = await fetch(`${stack.api.url}${request.path}`, {
      method: request.method.toUpperCase(),
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const isStream = response.headers.get('content-type')?.includes('text/event-stream');
    // A stream's status is all there is to check; its body would stay open for the stream's lifetime.
    if (isStream) await response.body?.cancel();
    const text = isStream ? '' : await response.text();
    const statusClass = `${String(response.status).slice(0, 1)}xx`;
    answered.set(statusClass, (answered.get(statusClass) ?? 0) + 1);
    return response.status >= 500 ? `${describe} → ${response.status} ${text.slice(0, 300)}` : null;
  } catch (error) {
    return `${describe} → no answer: ${String(error)}`;
  }
}

describe('the API under requests derived from its OpenAPI document', () => {
  it('answers every fuzzed request without a 5xx, and is still alive after', async () => {
    const operations = Object.entries(document.paths).flatMap(([template, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ template, method, operation })),
    );
    expect(operations.length).toBeGreaterThan(30);
    // Generated one at a time, in one seeded order, as the senders take them (bodies can be a megabyte each).
    const random = new Random(SEED);
    function* requests(): Generator<FuzzRequest> {
      for (const { template, method, operation } of operations) {
        for (let index = 0; index < REQUESTS_PER_OPERATION; index += 1)
          yield requestFor(method, template, operation, ids, keys, random);
      }
    }
    const pending = requests();
    const failures: string[] = [];
    let sent = 0;
    const sendAll = async () => {
      for (let next = pending.next(); !next.done; next = pending.next()) {
        sent += 1;
        const failure = await failureOf(next.value);
        if (failure) failures.push(failure);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, sendAll));
    expect(sent).toBeGreaterThan(2_000);
    expect(failures).toEqual([]);
    expect(answered.get('2xx')).toBeGreaterThan(100);
    const health = await fetch(`${stack.api.url}/healthz`);
    expect(health.status).toBe(200);
  }, 120_000);
});
