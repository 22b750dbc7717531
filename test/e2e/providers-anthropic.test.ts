// Issue 19, "Done when": an assistant on `anthropic/<model>`, driven end to end by the official `openai` SDK, with the
// `anthropic` provider pointed at a real server that speaks Anthropic's Messages wire protocol.
import type OpenAI from 'openai';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../../services/run-worker/src/providers/pricing.js';
import {
  type AnthropicTestServer,
  anthropicError,
  messageReply,
  type RecordedRequest,
  startAnthropicServer,
  toolUseReply,
} from '../../services/run-worker/test/support/anthropic-server.js';
import { type Stack, startStack } from '../support/stack.js';
import { ASSISTANTS_TEST_ENV, textOf } from './assistants-helpers.js';

const MODEL = 'anthropic/claude-sonnet-4-5';
const UPSTREAM_MODEL = 'claude-sonnet-4-5';

type Json = Record<string, unknown>;

interface UsageRow {
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: string;
}

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('the anthropic provider, end to end', () => {
  let server: AnthropicTestServer;
  let stack: Stack;
  let client: OpenAI;
  let db: pg.Pool;

  beforeAll(async () => {
    server = await startAnthropicServer();
    stack = await startStack({
      ...ASSISTANTS_TEST_ENV,
      ANTHROPIC_API_KEY: 'sk-ant-e2e',
      ANTHROPIC_BASE_URL: server.url,
      MODEL_MAX_RETRIES: '2',
      MODEL_RETRY_BASE_DELAY_MS: '1',
      MODEL_RETRY_MAX_DELAY_MS: '50',
    });
    // The demo shop's tables belong to the default project's SQL tools.
    client = (await stack.newDefaultProjectKey('providers-anthropic')).client;
    db = new pg.Pool({ connectionString: stack.database.url, max: 2 });
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
    await server?.close();
  });

  afterEach(() => {
    expect(server.pending, 'scripted replies left over').toBe(0);
  });

  async function usageRows(runId: string): Promise<UsageRow[]> {
    const { rows } = await db.query<UsageRow>(
      'select model, prompt_tokens, completion_tokens, total_tokens, cost_usd from usage_logs where run_id = $1 order by id',
      [runId],
    );
    return rows;
  }

  async function requestsSince(before: number, count: number): Promise<RecordedRequest[]> {
    return (await server.waitForRequests(before + count)).slice(before);
  }

  async function threadSaying(content: string) {
    return client.beta.threads.create({ messages: [{ role: 'user', content }] });
  }

  it('streams text, and reports usage with prompt-cache reads and writes, and their cost', async () => {
    const usage = { inputTokens: 300, outputTokens: 40, cacheReadTokens: 2000, cacheWriteTokens: 500 };
    server.script(messageReply(['Hello', ' from', ' Claude', '.'], { usage }));
    const before = server.requests.length;
    const assistant = await client.beta.assistants.create({ model: MODEL, instructions: 'Be brief.' });
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
    expect(streamed).toBe('Hello from Claude.');
    expect(run.usage).toEqual({ prompt_tokens: 2800, completion_tokens: 40, total_tokens: 2840 });
    const messages = (await client.beta.threads.messages.list(thread.id, { order: 'asc' })).data;
    expect(textOf(messages[1])).toBe('Hello from Claude.');

    const [request] = await requestsSince(before, 1);
    expect(request?.body).toMatchObject({
      model: UPSTREAM_MODEL,
      stream: true,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello' }] }],
    });
    expect(request?.headers.authorization).toBe('Bearer sk-ant-e2e');

    const price = DEFAULT_PRICES[UPSTREAM_MODEL];
    if (!price?.cachedInput || !price.cacheWrite) throw new Error('no cache prices for claude-sonnet-4-5');
    const cost =
      (300 * price.input + 2000 * price.cachedInput + 500 * price.cacheWrite + 40 * price.output) / 1e6;
    const [row] = await usageRows(run.id);
    expect(row).toMatchObject({
      model: MODEL,
      prompt_tokens: 2800,
      completion_tokens: 40,
      total_tokens: 2840,
    });
    expect(Number(row?.cost_usd)).toBeCloseTo(cost, 8);
    // Cache reads are cheaper than input: the same tokens uncached would cost more.
    expect(cost).toBeLessThan((2800 * price.input + 40 * price.output) / 1e6);
  });

  it('calls client functions in parallel: requires_action, then submitToolOutputsStream feeds tool_result blocks back', async () => {
    server.script(
      toolUseReply(
        [
          { id: 'toolu_paris', name: 'get_weather', input: '{"city":"Paris"}' },
          { id: 'toolu_oslo', name: 'get_weather', input: '{"city":"Oslo"}' },
        ],
        { usage: { inputTokens: 100, outputTokens: 20 } },
      ),
      messageReply('Paris is sunny; Oslo is cold.', { usage: { inputTokens: 150, outputTokens: 9 } }),
    );
    const before = server.requests.length;
    const assistant = await client.beta.assistants.create({ model: MODEL, tools: [weatherTool] });
    const thread = await threadSaying('Weather in Paris and Oslo?');

    const waiting = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
    expect(waiting.status).toBe('requires_action');
    const calls = waiting.required_action?.submit_tool_outputs.tool_calls ?? [];
    expect(calls.map((call) => [call.function.name, call.function.arguments])).toEqual([
      ['get_weather', '{"city":"Paris"}'],
      ['get_weather', '{"city":"Oslo"}'],
    ]);
    const [paris, oslo] = calls.map((call) => call.id);
    const [first] = await requestsSince(before, 1);
    expect(first?.body.tools).toEqual([
      {
        name: 'get_weather',
        description: 'The weather in a city',
        input_schema: weatherTool.function.parameters,
        cache_control: { type: 'ephemeral' },
      },
    ]);
    expect(first?.body.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: false });

    let streamed = '';
    const stream = client.beta.threads.runs
      .submitToolOutputsStream(waiting.id, {
        thread_id: thread.id,
        tool_outputs: [
          { tool_call_id: oslo ?? '', output: 'cold' },
          { tool_call_id: paris ?? '', output: 'sunny' },
        ],
      })
      .on('textDelta', (delta) => {
        streamed += delta.value ?? '';
      });
    const run = await stream.finalRun();
    expect(run.status).toBe('completed');
    expect(streamed).toBe('Paris is sunny; Oslo is cold.');
    expect(run.usage).toEqual({ prompt_tokens: 250, completion_tokens: 29, total_tokens: 279 });

    const [, second] = await requestsSince(before, 2);
    const sent = (second?.body.messages ?? []) as Json[];
    expect(sent.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent[1]?.content).toEqual([
      { type: 'tool_use', id: paris, name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: oslo, name: 'get_weather', input: { city: 'Oslo' } },
    ]);
    const results = (sent[2]?.content ?? []) as Json[];
    expect(results).toEqual([
      { type: 'tool_result', tool_use_id: paris, content: 'sunny' },
      { type: 'tool_result', tool_use_id: oslo, content: 'cold' },
    ]);
    expect((await usageRows(run.id)).map((row) => [row.model, row.total_tokens])).toEqual([
      [MODEL, 120],
      [MODEL, 159],
    ]);
  });

  it('streams a call as Claude makes it: through runs.stream, toolCallDelta pieces join to the stored arguments', async () => {
    const input = '{"city":"Paris","unit":"celsius"}';
    server.script(toolUseReply([{ id: 'toolu_paris', name: 'get_weather', input }]));
    const assistant = await client.beta.assistants.create({ model: MODEL, tools: [weatherTool] });
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
    expect(pieces.join('')).toBe(input);
    const [step] = (await client.beta.threads.runs.steps.list(waiting.id, { thread_id: thread.id })).data;
    expect(step?.step_details).toEqual({
      type: 'tool_calls',
      tool_calls: [
        { id: call?.id, type: 'function', function: { name: 'get_weather', arguments: input, output: null } },
      ],
    });
  });

  it('calls a built-in tool through the tool worker, and answers from its output', async () => {
    server.script(
      toolUseReply([{ id: 'toolu_tables', name: 'list_tables', input: '{}' }]),
      messageReply('There are customers, orders and order items.'),
    );
    const before = server.requests.length;
    // Built-in tool types are Threadwork's, not in the SDK's AssistantTool union.
    const builtins = [{ type: 'list_tables' }] as unknown as OpenAI.Beta.AssistantTool[];
    const assistant = await client.beta.assistants.create({ model: MODEL, tools: builtins });
    const thread = await threadSaying('What tables are there?');

    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });

    expect(run.status).toBe('completed');
    const steps = (await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' }))
      .data;
    const details = steps[0]?.step_details;
    const call = details?.type === 'tool_calls' ? details.tool_calls[0] : undefined;
    const output = call?.type === 'function' ? call.function.output : null;
    expect(output).toContain('orders');
    const [, second] = await requestsSince(before, 2);
    const results = (((second?.body.messages ?? []) as Json[])[2]?.content ?? []) as Json[];
    expect(results).toEqual([{ type: 'tool_result', tool_use_id: call?.id, content: output }]);
    const messages = (await client.beta.threads.messages.list(thread.id, { order: 'asc' })).data;
    expect(textOf(messages.at(-1))).toBe('There are customers, orders and order items.');
  });

  it('ends incomplete at max_tokens, and fails with last_error after retries on persistent 529s', async () => {
    server.script(messageReply('Cut short', { stopReason: 'max_tokens' }));
    const assistant = await client.beta.assistants.create({ model: MODEL });
    const cut = await client.beta.threads.runs.createAndPoll((await threadSaying('Talk')).id, {
      assistant_id: assistant.id,
    });
    expect(cut.status).toBe('incomplete');
    expect(cut.incomplete_details?.reason).toBe('max_completion_tokens');

    server.script(...Array.from({ length: 3 }, () => anthropicError(529, { message: 'Overloaded' })));
    const before = server.requests.length;
    const failed = await client.beta.threads.runs.createAndPoll((await threadSaying('Again')).id, {
      assistant_id: assistant.id,
    });
    expect(failed.status).toBe('failed');
    expect(failed.last_error?.code).toBe('server_error');
    expect(failed.last_error?.message).toContain('Overloaded');
    await requestsSince(before, 3);
    expect(server.requests).toHaveLength(before + 3);
  });
});
