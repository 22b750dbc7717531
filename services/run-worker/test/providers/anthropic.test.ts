import { createLogger } from '@threadwork/shared';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicProvider } from '../../src/providers/anthropic.js';
import { type ModelEvent, type ModelRequest, ProviderError } from '../../src/providers/types.js';
import {
  type AnthropicTestServer,
  anthropicError,
  messageReply,
  startAnthropicServer,
  toolUseReply,
} from '../support/anthropic-server.js';
import { collect, modelRequest } from './model-request.js';

const log = createLogger({ name: 'anthropic-provider-test', level: 'silent', pretty: false });

function request(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return modelRequest({
    model: 'claude-sonnet-4-5',
    instructions: 'You are terse.',
    messages: [{ role: 'user', content: 'Hello?' }],
    ...overrides,
  });
}

const weatherTool = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const timeTool = { name: 'get_time', parameters: { type: 'object', properties: {} } };

async function failure(events: AsyncIterable<ModelEvent>): Promise<{ error: unknown; seen: ModelEvent[] }> {
  const seen: ModelEvent[] = [];
  try {
    for await (const event of events) seen.push(event);
  } catch (error) {
    return { error, seen };
  }
  throw new Error(`expected the stream to fail, got ${JSON.stringify(seen)}`);
}

function textOf(events: ModelEvent[]): string {
  return events.map((event) => (event.type === 'text' ? event.delta : '')).join('');
}

let server: AnthropicTestServer;
let sleeps: number[];

function provider(options: { maxRetries?: number; timeoutMs?: number; isPromptCaching?: boolean } = {}) {
  sleeps = [];
  return createAnthropicProvider({
    baseURL: server.url,
    apiKey: 'sk-ant-test',
    timeoutMs: options.timeoutMs ?? 5_000,
    retry: { maxRetries: options.maxRetries ?? 3, baseDelayMs: 100, maxDelayMs: 5_000 },
    log,
    ...(options.isPromptCaching !== undefined ? { isPromptCaching: options.isPromptCaching } : {}),
    clock: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    },
  });
}

function lastBody(): Record<string, unknown> {
  const last = server.requests.at(-1);
  if (!last) throw new Error('no request received');
  return last.body;
}

const signal = () => new AbortController().signal;

beforeAll(async () => {
  server = await startAnthropicServer();
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  expect(server.pending).toBe(0);
});

describe('anthropic provider', () => {
  it('streams text deltas, then usage with cache reads and writes, then finish', async () => {
    server.script(
      messageReply(['Hel', 'lo', ' there'], {
        usage: { inputTokens: 21, outputTokens: 3, cacheReadTokens: 1000, cacheWriteTokens: 200 },
      }),
    );
    const events = await collect(provider().stream(request(), signal()));
    expect(events).toEqual([
      { type: 'text', delta: 'Hel' },
      { type: 'text', delta: 'lo' },
      { type: 'text', delta: ' there' },
      {
        type: 'usage',
        promptTokens: 1221,
        completionTokens: 3,
        cacheReadTokens: 1000,
        cacheWriteTokens: 200,
      },
      { type: 'finish', reason: 'stop' },
    ]);
    const received = server.requests.at(-1);
    expect(received?.path).toBe('/v1/messages');
    expect(received?.headers.authorization).toBe('Bearer sk-ant-test');
    expect(received?.headers['anthropic-version']).toBeTruthy();
    expect(received?.body).toEqual({
      model: 'claude-sonnet-4-5',
      stream: true,
      max_tokens: 4096,
      system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello?' }] }],
    });
  });

  it('maps the output limit, sampling and tool choice, and caches the tools as the stable prefix', async () => {
    server.script(messageReply('ok'), messageReply('ok'), messageReply('ok'));
    const tools = [weatherTool, timeTool];
    await collect(
      provider().stream(
        request({ tools, maxOutputTokens: 50, temperature: 0.2, topP: 0.9, parallelToolCalls: false }),
        signal(),
      ),
    );
    expect(lastBody()).toMatchObject({
      max_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      tools: [
        { name: 'get_weather', description: 'Weather for a city', input_schema: weatherTool.parameters },
        { name: 'get_time', input_schema: timeTool.parameters, cache_control: { type: 'ephemeral' } },
      ],
    });
    expect((lastBody().tools as Record<string, unknown>[])[0]).not.toHaveProperty('cache_control');

    const forced = { type: 'function' as const, function: { name: 'get_time' } };
    await collect(provider().stream(request({ tools, toolChoice: forced }), signal()));
    expect(lastBody().tool_choice).toEqual({
      type: 'tool',
      name: 'get_time',
      disable_parallel_tool_use: false,
    });

    await collect(
      provider({ isPromptCaching: false }).stream(request({ tools, toolChoice: 'required' }), signal()),
    );
    expect(lastBody().tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: false });
    expect(JSON.stringify(lastBody())).not.toContain('cache_control');
  });

  it('performs a two-call parallel tool round trip, feeding the results back as tool_result blocks', async () => {
    server.script(
      toolUseReply(
        [
          { id: 'toolu_paris', name: 'get_weather', input: '{"city":"Paris"}' },
          { id: 'toolu_oslo', name: 'get_weather', input: '{"city":"Oslo"}' },
        ],
        { text: 'Checking both.' },
      ),
      messageReply('Paris is sunny, Oslo is cold.'),
    );
    const first = await collect(provider().stream(request({ tools: [weatherTool] }), signal()));
    expect(textOf(first)).toBe('Checking both.');
    expect(first.filter((event) => event.type === 'tool_call')).toEqual([
      { type: 'tool_call', call: { id: 'toolu_paris', name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { type: 'tool_call', call: { id: 'toolu_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' } },
    ]);
    expect(first.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });

    const calls = [
      { id: 'toolu_paris', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'toolu_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ];
    const second = await collect(
      provider().stream(
        request({
          tools: [weatherTool],
          messages: [
            { role: 'user', content: 'Weather in Paris and Oslo?' },
            { role: 'assistant', content: 'Checking both.' },
            { role: 'assistant', toolCalls: calls },
            { role: 'tool', toolCallId: 'toolu_paris', name: 'get_weather', output: 'sunny' },
            { role: 'tool', toolCallId: 'toolu_oslo', name: 'get_weather', output: 'cold' },
            { role: 'user', content: 'And?' },
          ],
        }),
        signal(),
      ),
    );
    expect(textOf(second)).toBe('Paris is sunny, Oslo is cold.');
    expect(second.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    expect(lastBody().messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Oslo?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_paris', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_oslo', name: 'get_weather', input: { city: 'Oslo' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_paris', content: 'sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_oslo', content: 'cold' },
          { type: 'text', text: 'And?' },
        ],
      },
    ]);
  });

  it('maps max_tokens to length and refusal to content_filter', async () => {
    server.script(
      messageReply('Cut', { stopReason: 'max_tokens' }),
      messageReply('No', { stopReason: 'refusal' }),
    );
    expect((await collect(provider().stream(request(), signal()))).at(-1)).toEqual({
      type: 'finish',
      reason: 'length',
    });
    expect((await collect(provider().stream(request(), signal()))).at(-1)).toEqual({
      type: 'finish',
      reason: 'content_filter',
    });
  });

  it('retries 429 after retry-after, and 529 and 500 with backoff, then completes', async () => {
    server.script(
      anthropicError(429, { headers: { 'retry-after': '2' } }),
      anthropicError(529),
      anthropicError(500),
      messageReply('Finally.'),
    );
    const events = await collect(provider().stream(request(), signal()));
    expect(textOf(events)).toBe('Finally.');
    expect(sleeps).toEqual([2000, 150, 300]);
  });

  it('fails with server_error after its retries on a persistent 529, and at once with invalid_prompt on a 400', async () => {
    server.script(...Array.from({ length: 3 }, () => anthropicError(529, { message: 'Overloaded' })));
    const overloaded = await failure(provider({ maxRetries: 2 }).stream(request(), signal()));
    expect(overloaded.error).toBeInstanceOf(ProviderError);
    expect(overloaded.error).toMatchObject({ code: 'server_error' });
    expect((overloaded.error as Error).message).toContain('Overloaded');

    server.script(anthropicError(400, { message: 'messages: roles must alternate' }));
    const before = server.requests.length;
    const rejected = await failure(provider().stream(request(), signal()));
    expect(rejected.error).toMatchObject({ code: 'invalid_prompt' });
    expect((rejected.error as Error).message).toContain('roles must alternate');
    expect(server.requests).toHaveLength(before + 1);

    server.script(anthropicError(429, { headers: { 'retry-after': '60' } }));
    const limited = await failure(provider().stream(request(), signal()));
    expect(limited.error).toMatchObject({ code: 'rate_limit_exceeded' });
  });

  it('retries an overloaded error sent in the stream before any output; fails on one after output', async () => {
    server.script(
      messageReply([], { streamError: { type: 'overloaded_error', message: 'Overloaded' } }),
      messageReply('Second try.'),
    );
    expect(textOf(await collect(provider().stream(request(), signal())))).toBe('Second try.');
    expect(sleeps).toHaveLength(1);

    server.script(messageReply('Half', { streamError: { type: 'api_error', message: 'Internal' } }));
    const broken = await failure(provider().stream(request(), signal()));
    expect(textOf(broken.seen)).toBe('Half');
    expect(broken.error).toMatchObject({ code: 'server_error' });
  });

  it('retries a stream cut before message_stop, and a silent server', async () => {
    server.script(messageReply('Never finished', { cutAfterEvents: 2 }), messageReply('Whole.'));
    expect(textOf(await collect(provider().stream(request(), signal())))).toBe('Whole.');

    server.script(messageReply('Silent', { stallAfterEvents: 2 }), messageReply('Awake.'));
    expect(textOf(await collect(provider({ timeoutMs: 200 }).stream(request(), signal())))).toBe('Awake.');
  });

  it('closes the upstream connection when the caller cancels', async () => {
    server.script(messageReply('Waiting', { stallAfterEvents: 4 }));
    const controller = new AbortController();
    const reason = new Error('cancelled by test');
    const seen: ModelEvent[] = [];
    const reading = (async () => {
      for await (const event of provider().stream(request(), controller.signal)) {
        seen.push(event);
        if (event.type === 'text') controller.abort(reason);
      }
    })();
    await expect(reading).rejects.toBe(reason);
    expect(await server.requests.at(-1)?.outcome).toBe('client_closed');
  });
});
