import { ConfigError, createLogger, loadConfig } from '@threadwork/shared';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withFallbacks } from '../../src/providers/fallbacks.js';
import { createProviderRegistry } from '../../src/providers/index.js';
import { createOfflineProvider } from '../../src/providers/offline.js';
import { createOpenAIProvider } from '../../src/providers/openai.js';
import { type ModelEvent, ProviderError } from '../../src/providers/types.js';
import { errorReply, type OpenAITestServer, startOpenAIServer, textReply } from '../support/openai-server.js';
import { collect, modelRequest } from './model-request.js';

const log = createLogger({ name: 'fallbacks-test', level: 'silent', pretty: false });

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

function chain() {
  const upstream = createOpenAIProvider({
    name: 'openai',
    baseURL: server.url,
    apiKey: 'sk-test',
    apiMode: 'chat',
    timeoutMs: 5_000,
    retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 10 },
    log,
    clock: { sleep: async () => undefined },
  });
  return withFallbacks(
    [
      { name: 'openai/gpt-4o', provider: upstream, model: 'gpt-4o' },
      { name: 'openai/gpt-4o-mini', provider: upstream, model: 'gpt-4o-mini' },
      { name: 'offline', provider: createOfflineProvider({ tokenDelayMs: 0 }), model: 'offline' },
    ],
    log,
  );
}

const request = modelRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] });

async function failure(events: AsyncIterable<ModelEvent>): Promise<{ error: unknown; seen: ModelEvent[] }> {
  const seen: ModelEvent[] = [];
  try {
    for await (const event of events) seen.push(event);
  } catch (error) {
    return { error, seen };
  }
  throw new Error(`expected the stream to fail, got ${JSON.stringify(seen)}`);
}

describe('withFallbacks', () => {
  it('tries the next model after the retries of one that keeps failing, and says which answered', async () => {
    server.script(errorReply(500), errorReply(500), errorReply(503), errorReply(503));
    const events = await collect(chain().stream(request, new AbortController().signal));
    expect(events.filter((event) => event.type === 'failover')).toEqual([
      {
        type: 'failover',
        from: 'openai/gpt-4o',
        to: 'openai/gpt-4o-mini',
        reason: expect.stringContaining('500'),
      },
      { type: 'failover', from: 'openai/gpt-4o-mini', to: 'offline', reason: expect.stringContaining('503') },
    ]);
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    expect(server.requests.slice(-4).map((received) => received.body.model)).toEqual([
      'gpt-4o',
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4o-mini',
    ]);
  });

  it('does not fail over once output was streamed, nor on a request the model refused', async () => {
    server.script(textReply('Half an', { streamError: { code: 'server_error', message: 'Broke' } }));
    const broken = await failure(chain().stream(request, new AbortController().signal));
    expect(broken.error).toBeInstanceOf(ProviderError);
    expect(broken.seen.some((event) => event.type === 'failover')).toBe(false);

    server.script(errorReply(400, { message: 'Bad request' }));
    const refused = await failure(chain().stream(request, new AbortController().signal));
    expect(refused.error).toMatchObject({ code: 'invalid_prompt' });
    expect(refused.seen).toEqual([]);
  });
});

describe('MODEL_FALLBACKS', () => {
  it('parses comma-separated rules of |-separated chains', () => {
    const config = loadConfig({
      MODEL_FALLBACKS: 'openai/gpt-4o=anthropic/claude-sonnet-4-5|offline, gpt-4.1=offline',
    });
    expect(config.MODEL_FALLBACKS).toEqual({
      'openai/gpt-4o': ['anthropic/claude-sonnet-4-5', 'offline'],
      'gpt-4.1': ['offline'],
    });
  });

  it.each(['gpt-4o', 'gpt-4o=', 'gpt-4o=a||b', '=offline', 'a=b=c'])('refuses %j', (value) => {
    expect(() => loadConfig({ MODEL_FALLBACKS: value })).toThrow(ConfigError);
  });

  it('stops start-up when a chain names a model that routes nowhere', () => {
    const config = loadConfig({
      OPENAI_API_KEY: 'sk-test',
      MODEL_FALLBACKS: 'gpt-4o=anthropic/claude-sonnet-4-5',
    });
    expect(() => createProviderRegistry(config, log)).toThrow(ConfigError);
  });

  it('resolves a model with a rule to its chain, and other models alone', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-test', MODEL_FALLBACKS: 'gpt-4o=offline' });
    const registry = createProviderRegistry(config, log);
    expect(registry.resolve('gpt-4o').model).toBe('gpt-4o');
    expect(registry.resolve('gpt-4o').provider).not.toBe(registry.resolve('gpt-4.1').provider);
  });
});
