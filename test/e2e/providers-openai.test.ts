// Issue 4, "Done when": runs driven end to end through the API by the official SDK, with the `openai` provider
// pointed at a real OpenAI-compatible test server, in both API modes (Responses and Chat Completions).
import type { OpenAIApiMode } from '@threadwork/shared';
import type OpenAI from 'openai';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../../services/run-worker/src/providers/pricing.js';
import {
  errorReply,
  type OpenAITestServer,
  type RecordedRequest,
  startOpenAIServer,
  textReply,
  toolCallsReply,
} from '../../services/run-worker/test/support/openai-server.js';
import { type Stack, startStack } from '../support/stack.js';
import { textOf, waitForRunStatus } from './assistants-helpers.js';

const MODEL = 'openai/gpt-4.1-mini';
const UPSTREAM_MODEL = 'gpt-4.1-mini';
const MAX_RETRIES = 2;
const TIMEOUT_MS = 15_000;

type Json = Record<string, unknown>;

/** Rejects with a clear message when `promise` has not settled within `ms`: a deadline, not a wait. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Expected cost from the default price table (USD per million tokens), as the docs describe it. */
function expectedCost(model: keyof typeof DEFAULT_PRICES, promptTokens: number, completionTokens: number) {
  const price = DEFAULT_PRICES[model];
  if (!price) throw new Error(`no default price for ${model}`);
  return (promptTokens * price.input + completionTokens * price.output) / 1_000_000;
}

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
    },
  },
};

const timeTool = {
  type: 'function' as const,
  function: {
    name: 'get_time',
    description: 'The local time in a time zone',
    parameters: { type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'] },
  },
};

const WIRE_PATH: Record<OpenAIApiMode, string> = {
  responses: '/v1/responses',
  chat: '/v1/chat/completions',
};

/** The names of the function tools a request offered the model, in either API. */
function offeredTools(mode: OpenAIApiMode, body: Json): string[] {
  const tools = (body.tools ?? []) as Json[];
  return tools.map((tool) =>
    mode === 'responses' ? String(tool.name) : String((tool.function as Json | undefined)?.name),
  );
}

/** The earlier tool calls a request replays to the model: call id → name and arguments. */
function replayedCalls(mode: OpenAIApiMode, body: Json): Record<string, { name: string; arguments: string }> {
  const calls: Record<string, { name: string; arguments: string }> = {};
  if (mode === 'responses') {
    for (const item of (body.input ?? []) as Json[]) {
      if (item.type === 'function_call') {
        calls[String(item.call_id)] = { name: String(item.name), arguments: String(item.arguments) };
      }
    }
    return calls;
  }
  for (const message of (body.messages ?? []) as Json[]) {
    if (message.role !== 'assistant' || !Array.isArray(message.tool_calls)) continue;
    for (const call of message.tool_calls as Json[]) {
      const fn = call.function as Json;
      calls[String(call.id)] = { name: String(fn.name), arguments: String(fn.arguments) };
    }
  }
  return calls;
}

/** The tool outputs a request gives the model: call id → output (function_call_output items, or role tool). */
function toolOutputs(mode: OpenAIApiMode, body: Json): Record<string, string> {
  const outputs: Record<string, string> = {};
  if (mode === 'responses') {
    for (const item of (body.input ?? []) as Json[]) {
      if (item.type === 'function_call_output') outputs[String(item.call_id)] = String(item.output);
    }
    return outputs;
  }
  for (const message of (body.messages ?? []) as Json[]) {
    if (message.role === 'tool') outputs[String(message.tool_call_id)] = String(message.content);
  }
  return outputs;
}

/** The user's words in a request, in either API. */
function userTexts(mode: OpenAIApiMode, body: Json): string[] {
  const items = ((mode === 'responses' ? body.input : body.messages) ?? []) as Json[];
  return items.filter((item) => item.role === 'user').map((item) => String(item.content));
}

interface UsageRow {
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: string;
  latency_ms: number;
  first_token_ms: number | null;
}

describe.each(['responses', 'chat'] as const)('the openai provider in %s mode, end to end', (mode) => {
  let server: OpenAITestServer;
  let stack: Stack;
  let client: OpenAI;
  let db: pg.Pool;

  beforeAll(async () => {
    server = await startOpenAIServer();
    stack = await startStack({
      OPENAI_BASE_URL: server.url,
      OPENAI_API_MODE: mode,
      MODEL_MAX_RETRIES: String(MAX_RETRIES),
      MODEL_RETRY_BASE_DELAY_MS: '1',
      MODEL_RETRY_MAX_DELAY_MS: '50',
      MODEL_TIMEOUT_MS: String(TIMEOUT_MS),
      RATE_LIMIT_PER_MINUTE: '1000000',
      POLL_AFTER_MS: '10',
    });
    // The demo shop's tables belong to the default project's SQL tools.
    client = (await stack.newDefaultProjectKey(`providers-${mode}`)).client;
    db = new pg.Pool({ connectionString: stack.database.url, max: 2 });
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
    await server?.close();
  });

  afterEach(() => {
    // Every scripted reply must have been taken, or the next test would get a leftover one.
    expect(server.pending, 'scripted replies left over').toBe(0);
  });

  async function usageRows(runId: string): Promise<UsageRow[]> {
    const { rows } = await db.query<UsageRow>(
      `select model, prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, first_token_ms
       from usage_logs where run_id = $1 order by id`,
      [runId],
    );
    return rows;
  }

  async function assistantWith(tools: OpenAI.Beta.AssistantTool[] = [], instructions = 'Be brief.') {
    return client.beta.assistants.create({ model: MODEL, instructions, tools });
  }

  async function threadSaying(content: string) {
    return client.beta.threads.create({ messages: [{ role: 'user', content }] });
  }

  async function messagesOf(threadId: string) {
    return (await client.beta.threads.messages.list(threadId, { order: 'asc' })).data;
  }

  /** The requests that arrived since `before`, waiting for `count` of them. */
  async function requestsSince(before: number, count: number): Promise<RecordedRequest[]> {
    const all = await within(server.waitForRequests(before + count), 10_000, `request ${before + count}`);
    return all.slice(before);
  }

  it('streams text: the deltas make the stored message, and usage and cost are recorded', async () => {
    const usage = { promptTokens: 1200, completionTokens: 345 };
    const chunks = ['Hello', ' from', ' the', ' test', ' server', '.'];
    server.script(textReply(chunks, { usage, firstTokenDelayMs: 25 }));
    const before = server.requests.length;
    const assistant = await assistantWith();
    const thread = await threadSaying('Say hello');

    let streamed = '';
    const stream = client.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id })
      .on('textDelta', (delta) => {
        streamed += delta.value ?? '';
      });
    const run = await stream.finalRun();

    expect(run.status).toBe('completed');
    expect(run.model).toBe(MODEL);
    expect(run.last_error).toBeNull();
    expect(run.usage).toEqual({ prompt_tokens: 1200, completion_tokens: 345, total_tokens: 1545 });
    const retrieved = await client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
    expect(retrieved.status).toBe('completed');
    expect(retrieved.usage).toEqual(run.usage);

    const messages = await messagesOf(thread.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(messages[1]?.status).toBe('completed');
    expect(messages[1]?.run_id).toBe(run.id);
    expect(textOf(messages[1])).toBe(chunks.join(''));
    expect(streamed).toBe(chunks.join(''));

    const [request] = await requestsSince(before, 1);
    expect(request?.path).toBe(WIRE_PATH[mode]);
    expect(request?.body).toMatchObject({ model: UPSTREAM_MODEL, stream: true });
    expect(userTexts(mode, request?.body ?? {})).toEqual(['Say hello']);
    expect(JSON.stringify(request?.body)).toContain('Be brief.');
    expect(request?.headers.authorization).toMatch(/^Bearer /);
    expect(server.requests).toHaveLength(before + 1);

    const rows = await usageRows(run.id);
    expect(rows).toHaveLength(1);
    const row = rows[0] as UsageRow;
    expect(row).toMatchObject({
      model: MODEL,
      prompt_tokens: 1200,
      completion_tokens: 345,
      total_tokens: 1545,
    });
    const cost = expectedCost(UPSTREAM_MODEL, usage.promptTokens, usage.completionTokens);
    expect(cost).toBeGreaterThan(0);
    expect(Number(row.cost_usd)).toBeCloseTo(cost, 8);
    expect(row.latency_ms).toBeGreaterThanOrEqual(0);
    expect(row.first_token_ms).not.toBeNull();
    // The scripted 25 ms wait before the first token shows (timers may fire a millisecond or two early).
    expect(row.first_token_ms).toBeGreaterThanOrEqual(20);
    expect(row.latency_ms).toBeGreaterThanOrEqual(row.first_token_ms ?? 0);
  });

  it('streams a call as the model makes it: through runs.stream, toolCallDelta pieces join to the stored arguments', async () => {
    const weatherArgs = '{"city":"Paris","unit":"celsius"}';
    server.script(
      toolCallsReply([{ id: 'call_upstream_weather', name: 'get_weather', arguments: weatherArgs }], {
        text: 'Let me check.',
      }),
    );
    const assistant = await assistantWith([weatherTool]);
    const thread = await threadSaying('Weather in Paris?');

    const created: string[] = [];
    const pieces: string[] = [];
    const waiting = await client.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id })
      .on('toolCallCreated', (call) => created.push(call.id))
      .on('toolCallDelta', (delta) =>
        pieces.push(delta.type === 'function' ? (delta.function?.arguments ?? '') : ''),
      )
      .finalRun();

    expect(waiting.status).toBe('requires_action');
    const [call] = waiting.required_action?.submit_tool_outputs.tool_calls ?? [];
    expect(created).toEqual([call?.id]);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(weatherArgs);
    const steps = (
      await client.beta.threads.runs.steps.list(waiting.id, { thread_id: thread.id, order: 'asc' })
    ).data;
    expect(steps.map((step) => step.step_details)).toEqual([
      { type: 'message_creation', message_creation: { message_id: expect.any(String) } },
      {
        type: 'tool_calls',
        tool_calls: [
          {
            id: call?.id,
            type: 'function',
            function: { name: 'get_weather', arguments: weatherArgs, output: null },
          },
        ],
      },
    ]);
  });

  it('performs a two-call parallel tool round trip with client function tools, accumulating usage', async () => {
    const weatherArgs = '{"city":"Paris","unit":"celsius"}';
    const timeArgs = '{"timezone":"Europe/Paris"}';
    server.script(
      toolCallsReply(
        [
          { id: 'call_upstream_weather', name: 'get_weather', arguments: weatherArgs },
          { id: 'call_upstream_time', name: 'get_time', arguments: timeArgs },
        ],
        { usage: { promptTokens: 100, completionTokens: 20 } },
      ),
      textReply('It is 21 degrees and 14:05 in Paris.', {
        usage: { promptTokens: 150, completionTokens: 12 },
      }),
    );
    const before = server.requests.length;
    const assistant = await assistantWith([weatherTool, timeTool]);
    const thread = await threadSaying('Weather and time in Paris?');

    const waiting = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
    expect(waiting.status).toBe('requires_action');
    const calls = waiting.required_action?.submit_tool_outputs.tool_calls ?? [];
    expect(calls.map((call) => ({ type: call.type, ...call.function }))).toEqual([
      { type: 'function', name: 'get_weather', arguments: weatherArgs },
      { type: 'function', name: 'get_time', arguments: timeArgs },
    ]);
    const [weatherCall, timeCall] = calls as [
      OpenAI.Beta.Threads.RequiredActionFunctionToolCall,
      OpenAI.Beta.Threads.RequiredActionFunctionToolCall,
    ];
    expect(weatherCall.id).not.toBe(timeCall.id);

    const [first] = await requestsSince(before, 1);
    expect(first?.path).toBe(WIRE_PATH[mode]);
    expect(offeredTools(mode, first?.body ?? {})).toEqual(['get_weather', 'get_time']);
    expect(first?.body.parallel_tool_calls).toBe(true);

    const weatherOutput = '{"temperature_c":21,"sky":"clear"}';
    const timeOutput = '14:05';
    // Submitted in the other order: outputs are matched by call id, not by position.
    const run = await client.beta.threads.runs.submitToolOutputsAndPoll(waiting.id, {
      thread_id: thread.id,
      tool_outputs: [
        { tool_call_id: timeCall.id, output: timeOutput },
        { tool_call_id: weatherCall.id, output: weatherOutput },
      ],
    });
    expect(run.status).toBe('completed');
    expect(run.usage).toEqual({ prompt_tokens: 250, completion_tokens: 32, total_tokens: 282 });

    const [, second] = await requestsSince(before, 2);
    expect(server.requests).toHaveLength(before + 2);
    const body = second?.body ?? {};
    expect(second?.path).toBe(WIRE_PATH[mode]);
    expect(userTexts(mode, body)).toEqual(['Weather and time in Paris?']);
    expect(replayedCalls(mode, body)).toEqual({
      [weatherCall.id]: { name: 'get_weather', arguments: weatherArgs },
      [timeCall.id]: { name: 'get_time', arguments: timeArgs },
    });
    expect(toolOutputs(mode, body)).toEqual({ [weatherCall.id]: weatherOutput, [timeCall.id]: timeOutput });
    if (mode === 'responses') {
      // Every function_call_output follows the function_call it answers.
      const input = body.input as Json[];
      for (const id of [weatherCall.id, timeCall.id]) {
        const callAt = input.findIndex((item) => item.type === 'function_call' && item.call_id === id);
        const outputAt = input.findIndex(
          (item) => item.type === 'function_call_output' && item.call_id === id,
        );
        expect(callAt).toBeGreaterThanOrEqual(0);
        expect(outputAt).toBeGreaterThan(callAt);
      }
    } else {
      // The tool messages directly follow the one assistant message that made both calls.
      const messages = body.messages as Json[];
      const at = messages.findIndex((message) => Array.isArray(message.tool_calls));
      expect((messages[at]?.tool_calls ?? []) as Json[]).toHaveLength(2);
      expect(messages.slice(at + 1, at + 3).map((message) => message.role)).toEqual(['tool', 'tool']);
    }

    const messages = await messagesOf(thread.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(textOf(messages[1])).toBe('It is 21 degrees and 14:05 in Paris.');

    const steps = (await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' }))
      .data;
    expect(steps.map((step) => [step.type, step.status])).toEqual([
      ['tool_calls', 'completed'],
      ['message_creation', 'completed'],
    ]);
    const details = steps[0]?.step_details;
    const stepCalls = details?.type === 'tool_calls' ? details.tool_calls : [];
    expect(stepCalls.map((call) => (call.type === 'function' ? call.function : null))).toEqual([
      { name: 'get_weather', arguments: weatherArgs, output: weatherOutput },
      { name: 'get_time', arguments: timeArgs, output: timeOutput },
    ]);

    const rows = await usageRows(run.id);
    expect(
      rows.map((row) => [row.model, row.prompt_tokens, row.completion_tokens, row.total_tokens]),
    ).toEqual([
      [MODEL, 100, 20, 120],
      [MODEL, 150, 12, 162],
    ]);
    expect(Number(rows[0]?.cost_usd)).toBeCloseTo(expectedCost(UPSTREAM_MODEL, 100, 20), 8);
    expect(Number(rows[1]?.cost_usd)).toBeCloseTo(expectedCost(UPSTREAM_MODEL, 150, 12), 8);
    for (const row of rows) {
      expect(row.latency_ms).toBeGreaterThanOrEqual(0);
      expect(row.first_token_ms).not.toBeNull();
    }
  });

  it('retries a 429 after the retry-after-ms wait and completes; the server saw 2 requests', async () => {
    server.script(
      errorReply(429, { headers: { 'retry-after-ms': '10' }, message: 'Slow down' }),
      textReply('After the wait.', { usage: { promptTokens: 40, completionTokens: 4 } }),
    );
    const before = server.requests.length;
    const assistant = await assistantWith();
    const thread = await threadSaying('Are you there?');

    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });

    expect(run.status).toBe('completed');
    expect(run.last_error).toBeNull();
    expect(run.usage).toEqual({ prompt_tokens: 40, completion_tokens: 4, total_tokens: 44 });
    const requests = await requestsSince(before, 2);
    expect(server.requests).toHaveLength(before + 2);
    // The retry is the same call again.
    expect(requests[1]?.body).toEqual(requests[0]?.body);
    expect(textOf((await messagesOf(thread.id))[1])).toBe('After the wait.');
    expect(await usageRows(run.id)).toHaveLength(1);
  });

  it(`fails the run with server_error after ${MAX_RETRIES + 1} attempts on persistent 500s`, async () => {
    const attempts = MAX_RETRIES + 1;
    server.script(
      ...Array.from({ length: attempts }, () => errorReply(500, { message: 'Upstream is down' })),
    );
    const before = server.requests.length;
    const assistant = await assistantWith();
    const thread = await threadSaying('Anyone home?');

    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });

    expect(run.status).toBe('failed');
    expect(run.last_error?.code).toBe('server_error');
    expect(run.last_error?.message).toContain('Upstream is down');
    expect(run.failed_at).toBeTypeOf('number');
    await requestsSince(before, attempts);
    expect(server.requests).toHaveLength(before + attempts);
    expect((await messagesOf(thread.id)).map((message) => message.role)).toEqual(['user']);
    expect(await usageRows(run.id)).toHaveLength(0);
  });

  it('fails at once with invalid_prompt on a 400, and with rate_limit_exceeded on a too-long retry-after', async () => {
    server.script(errorReply(400, { message: 'Bad schema', code: 'invalid_value' }));
    const before = server.requests.length;
    const assistant = await assistantWith();
    const rejected = await client.beta.threads.runs.createAndPoll((await threadSaying('x')).id, {
      assistant_id: assistant.id,
    });
    expect(rejected.status).toBe('failed');
    expect(rejected.last_error?.code).toBe('invalid_prompt');
    expect(server.requests).toHaveLength(before + 1);

    // MODEL_RETRY_MAX_DELAY_MS is 50: a server asking for 60 s is not waited for.
    server.script(errorReply(429, { headers: { 'retry-after': '60' } }));
    const limited = await client.beta.threads.runs.createAndPoll((await threadSaying('y')).id, {
      assistant_id: assistant.id,
    });
    expect(limited.status).toBe('failed');
    expect(limited.last_error?.code).toBe('rate_limit_exceeded');
    expect(server.requests).toHaveLength(before + 2);
  });

  it('fails a run whose stream is cut after text was streamed (documented: no retry once output began)', async () => {
    // Four events: the opening one, then (Responses) the message item and two deltas, or (Chat) three deltas.
    server.script(textReply('one two three four five six', { cutAfterEvents: 4 }));
    const before = server.requests.length;
    const assistant = await assistantWith();
    const thread = await threadSaying('Count to six');

    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });

    expect(run.status).toBe('failed');
    expect(run.last_error?.code).toBe('server_error');
    const [request] = await requestsSince(before, 1);
    expect(await within(request?.outcome ?? Promise.reject(), 5_000, 'cut outcome')).toBe('cut');
    expect(server.requests).toHaveLength(before + 1);
    const messages = await messagesOf(thread.id);
    // The partial answer is not left in progress either.
    expect(messages.map((message) => [message.role, message.status])).toEqual([
      ['user', 'completed'],
      ['assistant', 'incomplete'],
    ]);
    expect(messages[1]?.incomplete_details?.reason).toBe('run_failed');
  });

  it('retries a stream cut before any output, and the run completes', async () => {
    server.script(
      textReply('lost', { cutAfterEvents: 1 }),
      textReply('Second time lucky.', { usage: { promptTokens: 30, completionTokens: 3 } }),
    );
    const before = server.requests.length;
    const assistant = await assistantWith();
    const thread = await threadSaying('Try again');

    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });

    expect(run.status).toBe('completed');
    expect(run.usage).toEqual({ prompt_tokens: 30, completion_tokens: 3, total_tokens: 33 });
    const [cut] = await requestsSince(before, 2);
    expect(await within(cut?.outcome ?? Promise.reject(), 5_000, 'cut outcome')).toBe('cut');
    expect(server.requests).toHaveLength(before + 2);
    const messages = await messagesOf(thread.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(textOf(messages[1])).toBe('Second time lucky.');
  });

  it.each([
    ['while waiting for the first token', textReply('never sent', { firstTokenDelayMs: 60_000 })],
    ['in the middle of the text', textReply('a partial answer that stalls here', { stallAfterEvents: 4 })],
  ])('cancel aborts the upstream request %s', async (_when, reply) => {
    server.script(reply);
    const before = server.requests.length;
    const assistant = await assistantWith();
    const thread = await threadSaying('Take your time');

    const created = await client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    const [request] = await requestsSince(before, 1);
    const inProgress = await waitForRunStatus(client, thread.id, created.id, ['in_progress']);
    expect(inProgress.status).toBe('in_progress');

    const cancelling = await client.beta.threads.runs.cancel(created.id, { thread_id: thread.id });
    expect(['cancelling', 'cancelled']).toContain(cancelling.status);
    // Well before MODEL_TIMEOUT_MS (15 s): the cancel itself closed the connection, not the idle deadline.
    expect(await within(request?.outcome ?? Promise.reject(), 5_000, 'upstream request outcome')).toBe(
      'client_closed',
    );
    const run = await within(
      client.beta.threads.runs.poll(created.id, { thread_id: thread.id }),
      5_000,
      'run reaching a terminal status',
    );
    expect(run.status).toBe('cancelled');
    expect(run.cancelled_at).toBeTypeOf('number');
    expect(run.last_error).toBeNull();
    expect(server.requests).toHaveLength(before + 1);
    for (const message of await messagesOf(thread.id)) expect(message.status).not.toBe('in_progress');
  });

  it('runs two built-in tools called in parallel through the tool worker, and completes', async () => {
    server.script(
      toolCallsReply(
        [
          { name: 'list_tables', arguments: '{}' },
          { name: 'get_schema', arguments: '{"table":"orders"}' },
        ],
        { usage: { promptTokens: 80, completionTokens: 16 } },
      ),
      textReply('The shop has customers, orders and their items.', {
        usage: { promptTokens: 400, completionTokens: 10 },
      }),
    );
    const before = server.requests.length;
    // Built-in tool types are Threadwork's, not in the SDK's AssistantTool union.
    const builtins = [
      { type: 'list_tables' },
      { type: 'get_schema' },
    ] as unknown as OpenAI.Beta.AssistantTool[];
    const assistant = await assistantWith(builtins);
    const thread = await threadSaying('What tables are there, and what does orders look like?');

    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });

    expect(run.status).toBe('completed');
    expect(run.usage).toEqual({ prompt_tokens: 480, completion_tokens: 26, total_tokens: 506 });
    const [first, second] = await requestsSince(before, 2);
    expect(server.requests).toHaveLength(before + 2);
    expect(offeredTools(mode, first?.body ?? {})).toEqual(['list_tables', 'get_schema']);

    const steps = (await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' }))
      .data;
    expect(steps.map((step) => [step.type, step.status])).toEqual([
      ['tool_calls', 'completed'],
      ['message_creation', 'completed'],
    ]);
    const details = steps[0]?.step_details;
    const stepCalls = (details?.type === 'tool_calls' ? details.tool_calls : []).flatMap((call) =>
      call.type === 'function' ? [{ id: call.id, ...call.function }] : [],
    );
    expect(stepCalls.map((call) => [call.name, call.arguments])).toEqual([
      ['list_tables', '{}'],
      ['get_schema', '{"table":"orders"}'],
    ]);
    const [tablesCall, schemaCall] = stepCalls;
    // The tool worker seeded the empty tools database with the sample shop.
    const tables = JSON.parse(tablesCall?.output ?? 'null') as { tables: Json[]; count: number };
    expect(tables.tables.map((table) => `${table.schema}.${table.name}:${table.kind}`)).toEqual([
      'public.customer_order_totals:view',
      'public.customers:table',
      'public.order_items:table',
      'public.orders:table',
    ]);
    expect(tables.count).toBe(4);
    const schema = JSON.parse(schemaCall?.output ?? 'null') as { columns: Json[] };
    expect(schema).toMatchObject({ schema: 'public', name: 'orders' });
    expect(schema.columns.map((column) => column.name)).toEqual([
      'id',
      'customer_id',
      'status',
      'ordered_at',
      'total',
    ]);

    // The continuation gave the model exactly what the tools returned, under the step's call ids.
    expect(toolOutputs(mode, second?.body ?? {})).toEqual({
      [tablesCall?.id ?? '']: tablesCall?.output,
      [schemaCall?.id ?? '']: schemaCall?.output,
    });
    expect(textOf((await messagesOf(thread.id))[1])).toBe('The shop has customers, orders and their items.');
    expect((await usageRows(run.id)).map((row) => row.total_tokens)).toEqual([96, 410]);
  });
});
