import { createLogger, type OpenAIApiMode } from '@threadwork/shared';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAIProvider } from '../../src/providers/openai.js';
import type { RetryClock } from '../../src/providers/retry.js';
import { type ModelEvent, type ModelRequest, ProviderError } from '../../src/providers/types.js';
import {
  errorReply,
  type OpenAITestServer,
  startOpenAIServer,
  textReply,
  toolCallsReply,
} from '../support/openai-server.js';
import { collect, modelRequest } from './model-request.js';

const log = createLogger({ name: 'openai-provider-test', level: 'silent', pretty: false });

function request(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return modelRequest({
    model: 'gpt-4.1-mini',
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

let server: OpenAITestServer;

beforeAll(async () => {
  server = await startOpenAIServer();
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  expect(server.pending).toBe(0);
});

describe.each<OpenAIApiMode>(['responses', 'chat'])('openai provider, %s API', (apiMode) => {
  const path = apiMode === 'responses' ? '/v1/responses' : '/v1/chat/completions';
  let sleeps: number[];

  function provider(options: { maxRetries?: number; timeoutMs?: number; clock?: Partial<RetryClock> } = {}) {
    sleeps = [];
    return createOpenAIProvider({
      name: 'openai',
      baseURL: server.url,
      apiKey: 'sk-test',
      apiMode,
      timeoutMs: options.timeoutMs ?? 5_000,
      retry: { maxRetries: options.maxRetries ?? 3, baseDelayMs: 100, maxDelayMs: 5_000 },
      log,
      clock: {
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        random: () => 0.5,
        ...options.clock,
      },
    });
  }

  function lastBody(): Record<string, unknown> {
    const last = server.requests.at(-1);
    if (!last) throw new Error('no request received');
    return last.body;
  }

  it('streams text deltas as they arrive, then usage and finish', async () => {
    server.script(textReply(['Hel', 'lo', ' there'], { usage: { promptTokens: 21, completionTokens: 3 } }));
    const events = await collect(provider().stream(request(), new AbortController().signal));
    expect(events).toEqual([
      { type: 'text', delta: 'Hel' },
      { type: 'text', delta: 'lo' },
      { type: 'text', delta: ' there' },
      { type: 'usage', promptTokens: 21, completionTokens: 3 },
      { type: 'finish', reason: 'stop' },
    ]);
    const received = server.requests.at(-1);
    expect(received?.path).toBe(path);
    expect(received?.headers.authorization).toBe('Bearer sk-test');
    expect(received?.body).toMatchObject({ model: 'gpt-4.1-mini', stream: true });
  });

  it('reports the prompt tokens read from OpenAI’s prompt cache', async () => {
    server.script(
      textReply('Cached.', { usage: { promptTokens: 2000, completionTokens: 1, cachedTokens: 1536 } }),
    );
    const events = await collect(provider().stream(request(), new AbortController().signal));
    expect(events).toContainEqual({
      type: 'usage',
      promptTokens: 2000,
      completionTokens: 1,
      cacheReadTokens: 1536,
    });
  });

  it('performs a two-call parallel tool round trip', async () => {
    const calls = [
      { id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'call_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ];
    server.script(toolCallsReply(calls), textReply('Paris is sunny, Oslo is cold.'));
    const first = await collect(
      provider().stream(request({ tools: [weatherTool] }), new AbortController().signal),
    );
    expect(first.filter((event) => event.type === 'tool_call')).toEqual([
      { type: 'tool_call', call: calls[0] },
      { type: 'tool_call', call: calls[1] },
    ]);
    expect(first.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });

    const history = request({
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris and Oslo?' },
        { role: 'assistant', toolCalls: calls },
        { role: 'tool', toolCallId: 'call_paris', name: 'get_weather', output: 'sunny' },
        { role: 'tool', toolCallId: 'call_oslo', name: 'get_weather', output: 'cold' },
      ],
    });
    const second = await collect(provider().stream(history, new AbortController().signal));
    expect(textOf(second)).toBe('Paris is sunny, Oslo is cold.');
    expect(second.at(-1)).toEqual({ type: 'finish', reason: 'stop' });

    if (apiMode === 'responses') {
      expect(lastBody().input).toEqual([
        { role: 'user', content: 'Weather in Paris and Oslo?' },
        { type: 'function_call', call_id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'call_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_paris', output: 'sunny' },
        { type: 'function_call_output', call_id: 'call_oslo', output: 'cold' },
      ]);
    } else {
      expect(lastBody().messages).toEqual([
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Weather in Paris and Oslo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: calls.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        },
        { role: 'tool', tool_call_id: 'call_paris', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_oslo', content: 'cold' },
      ]);
    }
  });

  it('sends tools, a forced tool_choice, sampling, the output limit and a JSON schema format', async () => {
    server.script(textReply('{"ok":true}'));
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    await collect(
      provider().stream(
        request({
          tools: [weatherTool],
          toolChoice: { type: 'function', function: { name: 'get_weather' } },
          parallelToolCalls: false,
          temperature: 0.2,
          topP: 0.9,
          maxOutputTokens: 321,
          responseFormat: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
        }),
        new AbortController().signal,
      ),
    );
    const body = lastBody();
    expect(body).toMatchObject({ temperature: 0.2, top_p: 0.9, parallel_tool_calls: false });
    if (apiMode === 'responses') {
      expect(body).toMatchObject({
        instructions: 'You are terse.',
        store: false,
        max_output_tokens: 321,
        tool_choice: { type: 'function', name: 'get_weather' },
        tools: [{ type: 'function', name: 'get_weather', parameters: weatherTool.parameters, strict: false }],
        text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } },
      });
    } else {
      expect(body).toMatchObject({
        max_completion_tokens: 321,
        stream_options: { include_usage: true },
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        tools: [{ type: 'function', function: weatherTool }],
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
      });
    }
  });

  it('leaves tool parameters out when there are no tools, and maps json_object', async () => {
    server.script(textReply('{}'));
    await collect(
      provider().stream(request({ responseFormat: { type: 'json_object' } }), new AbortController().signal),
    );
    const body = lastBody();
    expect(body).not.toHaveProperty('tools');
    expect(body).not.toHaveProperty('tool_choice');
    expect(body).not.toHaveProperty('parallel_tool_calls');
    if (apiMode === 'responses') expect(body.text).toEqual({ format: { type: 'json_object' } });
    else expect(body.response_format).toEqual({ type: 'json_object' });
  });

  it('reports a length finish when the output limit is reached', async () => {
    server.script(textReply('cut short', { finish: 'length' }));
    const events = await collect(
      provider().stream(request({ maxOutputTokens: 2 }), new AbortController().signal),
    );
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'length' });
  });

  it('estimates usage locally when the server reports none', async () => {
    server.script(textReply('four score and seven', { omitUsage: true }));
    const events = await collect(provider().stream(request(), new AbortController().signal));
    const usage = events.find((event) => event.type === 'usage');
    // o200k: "four score and seven" is 4 tokens. Prompt: (4 + "You are terse." 4) + (4 + "Hello?" 2) + 3 priming.
    expect(usage).toEqual({ type: 'usage', promptTokens: 17, completionTokens: 4 });
  });

  it('retries a 429 after the retry-after-ms the server asks for, then completes', async () => {
    server.script(
      errorReply(429, { headers: { 'retry-after-ms': '1234' }, code: 'rate_limit_exceeded' }),
      textReply('after the wait'),
    );
    const before = server.requests.length;
    const events = await collect(provider().stream(request(), new AbortController().signal));
    expect(textOf(events)).toBe('after the wait');
    expect(sleeps).toEqual([1234]);
    expect(server.requests.length - before).toBe(2);
  });

  it('honours retry-after in seconds', async () => {
    server.script(errorReply(429, { headers: { 'retry-after': '2' } }), textReply('ok'));
    await collect(provider().stream(request(), new AbortController().signal));
    expect(sleeps).toEqual([2000]);
  });

  it('gives up with rate_limit_exceeded when the server asks to wait longer than the cap', async () => {
    server.script(errorReply(429, { headers: { 'retry-after': '60' } }));
    const { error } = await failure(provider().stream(request(), new AbortController().signal));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe('rate_limit_exceeded');
    expect(sleeps).toEqual([]);
  });

  it('does not retry an exhausted quota', async () => {
    server.script(
      errorReply(429, { code: 'insufficient_quota', message: 'You exceeded your current quota' }),
    );
    const before = server.requests.length;
    const { error } = await failure(provider().stream(request(), new AbortController().signal));
    expect((error as ProviderError).code).toBe('rate_limit_exceeded');
    expect(server.requests.length - before).toBe(1);
  });

  it('fails with server_error after persistent 500s, backing off exponentially', async () => {
    server.script(errorReply(500), errorReply(502), errorReply(503), errorReply(500));
    const before = server.requests.length;
    const { error } = await failure(
      provider({ maxRetries: 3 }).stream(request(), new AbortController().signal),
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe('server_error');
    expect(server.requests.length - before).toBe(4);
    // base 100 ms doubling, equal jitter at random() = 0.5: three quarters of each step.
    expect(sleeps).toEqual([75, 150, 300]);
  });

  it('fails a 400 at once with invalid_prompt', async () => {
    server.script(
      errorReply(400, { message: 'Invalid schema for function', code: 'invalid_function_parameters' }),
    );
    const before = server.requests.length;
    const { error } = await failure(provider().stream(request(), new AbortController().signal));
    expect((error as ProviderError).code).toBe('invalid_prompt');
    expect((error as ProviderError).message).toContain('Invalid schema for function');
    expect(server.requests.length - before).toBe(1);
  });

  it('fails with server_error, without retrying, when the stream is cut after output began', async () => {
    server.script(textReply(['one', ' two', ' three', ' four'], { cutAfterEvents: 4 }));
    const before = server.requests.length;
    const { error, seen } = await failure(provider().stream(request(), new AbortController().signal));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe('server_error');
    expect(textOf(seen).length).toBeGreaterThan(0);
    expect(seen.some((event) => event.type === 'finish')).toBe(false);
    expect(server.requests.length - before).toBe(1);
    expect(await server.requests.at(-1)?.outcome).toBe('cut');
  });

  it('retries a stream cut before any output, and completes', async () => {
    server.script(textReply('lost', { cutAfterEvents: 1 }), textReply('second try'));
    const events = await collect(provider().stream(request(), new AbortController().signal));
    expect(textOf(events)).toBe('second try');
    expect(sleeps).toHaveLength(1);
  });

  it('retries a call that sends nothing within the timeout', async () => {
    server.script(textReply('too late', { firstTokenDelayMs: 30_000 }), textReply('in time'));
    const before = server.requests.length;
    const events = await collect(
      provider({ timeoutMs: 200 }).stream(request(), new AbortController().signal),
    );
    expect(textOf(events)).toBe('in time');
    expect(await server.requests[before]?.outcome).toBe('client_closed');
  });

  it('fails with the in-stream error the server reports', async () => {
    server.script(
      textReply([], { streamError: { code: 'server_error', message: 'The server had an error' } }),
    );
    server.script(
      textReply([], { streamError: { code: 'server_error', message: 'The server had an error' } }),
    );
    const { error } = await failure(
      provider({ maxRetries: 1 }).stream(request(), new AbortController().signal),
    );
    expect((error as ProviderError).code).toBe('server_error');
    expect((error as ProviderError).message).toContain('The server had an error');
  });

  it('aborts the upstream request on cancel', async () => {
    // Stall right after the first text delta (Responses opens with two events, Chat with one).
    server.script(textReply(['first', ' second'], { stallAfterEvents: apiMode === 'responses' ? 3 : 2 }));
    const controller = new AbortController();
    const seen: ModelEvent[] = [];
    const cancelled = new Error('run cancelled');
    const consume = (async () => {
      for await (const event of provider().stream(request(), controller.signal)) {
        seen.push(event);
        if (event.type === 'text') controller.abort(cancelled);
      }
    })();
    await expect(consume).rejects.toBe(cancelled);
    expect(seen).toEqual([{ type: 'text', delta: 'first' }]);
    expect(await server.requests.at(-1)?.outcome).toBe('client_closed');
    expect(sleeps).toEqual([]);
  });
});
