import { ApiError, ConfigError, createLogger, loadConfig, routeModel } from '@threadwork/shared';
import { describe, expect, it } from 'vitest';
import { createProviderRegistry } from '../../src/providers/index.js';
import { estimateCostUsd } from '../../src/providers/pricing.js';

const log = createLogger({ name: 'routing-test', level: 'silent', pretty: false });

describe('routeModel', () => {
  const noKey = loadConfig({});
  const withKey = loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_API_MODE: 'chat' });
  const withServers = loadConfig({
    MODEL_PROVIDERS: 'ollama=http://127.0.0.1:11434/v1, vllm=http://10.0.0.5:8000/v1',
  });

  it('always routes offline', () => {
    expect(routeModel('offline', noKey)).toEqual({ provider: 'offline', model: 'offline' });
  });

  it('refuses OpenAI models without a key or another base URL', () => {
    expect(routeModel('gpt-4.1-mini', noKey)).toBeNull();
    expect(routeModel('openai/gpt-4.1-mini', noKey)).toBeNull();
  });

  it('routes openai/<model> and bare names to the openai server when a key is set', () => {
    const expected = {
      provider: 'openai',
      model: 'gpt-4.1-mini',
      endpoint: 'openai',
      baseURL: 'https://api.openai.com/v1',
      apiMode: 'chat',
    };
    expect(routeModel('openai/gpt-4.1-mini', withKey)).toEqual(expected);
    expect(routeModel('gpt-4.1-mini', withKey)).toEqual(expected);
  });

  it('serves a keyless OpenAI-compatible server through OPENAI_BASE_URL', () => {
    const config = loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' });
    expect(routeModel('openai/llama3.1', config)).toMatchObject({
      provider: 'openai',
      model: 'llama3.1',
      baseURL: 'http://127.0.0.1:11434/v1',
      apiMode: 'responses',
    });
  });

  it('routes <name>/<model> to a MODEL_PROVIDERS server, keeping slashes in the model', () => {
    expect(routeModel('ollama/llama3.1:8b', withServers)).toEqual({
      provider: 'openai',
      model: 'llama3.1:8b',
      endpoint: 'ollama',
      baseURL: 'http://127.0.0.1:11434/v1',
      apiMode: 'chat',
    });
    expect(routeModel('vllm/meta-llama/Llama-3.1-8B-Instruct', withServers)).toMatchObject({
      endpoint: 'vllm',
      model: 'meta-llama/Llama-3.1-8B-Instruct',
    });
  });

  it('routes anthropic/<model> to Anthropic when a key or another base URL is set', () => {
    expect(routeModel('anthropic/claude-sonnet-4-5', noKey)).toBeNull();
    expect(routeModel('anthropic/claude-sonnet-4-5', loadConfig({ ANTHROPIC_API_KEY: 'sk-ant' }))).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      baseURL: 'https://api.anthropic.com',
    });
    const proxied = loadConfig({ ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999' });
    expect(routeModel('anthropic/claude-haiku-4-5', proxied)).toMatchObject({
      baseURL: 'http://127.0.0.1:9999',
    });
  });

  it('defaults to an Anthropic model when only ANTHROPIC_API_KEY is set', () => {
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-ant' }).defaultModel).toBe('anthropic/claude-sonnet-4-5');
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-ant', OPENAI_API_KEY: 'sk' }).defaultModel).toBe(
      'openai/gpt-4.1-mini',
    );
  });

  it('refuses unknown prefixes and empty model names', () => {
    expect(routeModel('lmstudio/qwen', withServers)).toBeNull();
    expect(routeModel('ollama/', withServers)).toBeNull();
    expect(routeModel('openai/', withKey)).toBeNull();
    expect(routeModel(' gpt-4o', withKey)).toBeNull();
  });
});

describe('MODEL_PROVIDERS', () => {
  it('accepts JSON with a key and an API mode per server', () => {
    const config = loadConfig({
      MODEL_PROVIDERS: JSON.stringify({
        openrouter: { baseURL: 'https://openrouter.ai/api/v1', apiKey: 'sk-or', apiMode: 'chat' },
        vllm: { baseURL: 'http://127.0.0.1:8000/v1', apiMode: 'responses' },
      }),
    });
    expect(config.MODEL_PROVIDERS).toEqual({
      openrouter: { baseURL: 'https://openrouter.ai/api/v1', apiKey: 'sk-or', apiMode: 'chat' },
      vllm: { baseURL: 'http://127.0.0.1:8000/v1', apiMode: 'responses' },
    });
  });

  it.each([
    ['a reserved name', 'openai=http://127.0.0.1:1/v1'],
    ['the anthropic name', 'anthropic=http://127.0.0.1:1/v1'],
    ['a URL that is not one', 'ollama=not-a-url'],
    ['broken JSON', '{"ollama": '],
    ['an unknown API mode', '{"x":{"baseURL":"http://127.0.0.1:1/v1","apiMode":"legacy"}}'],
  ])('refuses %s', (_, value) => {
    expect(() => loadConfig({ MODEL_PROVIDERS: value })).toThrow(ConfigError);
  });
});

describe('createProviderRegistry', () => {
  it('resolves offline, and OpenAI-protocol models to one provider per server', () => {
    const config = loadConfig({
      OPENAI_API_KEY: 'sk-test',
      MODEL_PROVIDERS: 'ollama=http://127.0.0.1:11434/v1',
    });
    const registry = createProviderRegistry(config, log);
    expect(registry.resolve('offline')).toMatchObject({ model: 'offline', provider: { name: 'offline' } });
    const mini = registry.resolve('openai/gpt-4.1-mini');
    expect(mini).toMatchObject({ model: 'gpt-4.1-mini', provider: { name: 'openai' } });
    expect(registry.resolve('gpt-4o').provider).toBe(mini.provider);
    expect(registry.resolve('ollama/llama3.1')).toMatchObject({
      model: 'llama3.1',
      provider: { name: 'ollama' },
    });
  });

  it('resolves anthropic/<model> to the one anthropic provider', () => {
    const registry = createProviderRegistry(loadConfig({ ANTHROPIC_API_KEY: 'sk-ant' }), log);
    const sonnet = registry.resolve('anthropic/claude-sonnet-4-5');
    expect(sonnet).toMatchObject({ model: 'claude-sonnet-4-5', provider: { name: 'anthropic' } });
    expect(registry.resolve('anthropic/claude-haiku-4-5').provider).toBe(sonnet.provider);
  });

  it('refuses an unknown model with a 400 model_not_found', () => {
    const registry = createProviderRegistry(loadConfig({}), log);
    let thrown: unknown;
    try {
      registry.resolve('gpt-4o');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect(thrown).toMatchObject({ status: 400, code: 'model_not_found', param: 'model' });
  });

  it('lays MODEL_PRICES over the default prices', () => {
    const config = loadConfig({
      MODEL_PRICES: JSON.stringify({
        'gpt-4o': { input: 1, output: 2 },
        'ollama/llama3.1': { input: 0.1, output: 0.1 },
      }),
    });
    const { prices } = createProviderRegistry(config, log);
    expect(estimateCostUsd('gpt-4o', 1_000_000, 1_000_000, prices)).toBeCloseTo(3);
    expect(estimateCostUsd('ollama/llama3.1', 1_000_000, 0, prices)).toBeCloseTo(0.1);
    expect(estimateCostUsd('gpt-4.1-mini', 1_000_000, 0, prices)).toBeCloseTo(0.4);
  });

  it('refuses prices that are not a table of input and output', () => {
    expect(() => loadConfig({ MODEL_PRICES: '{"gpt-4o": 2.5}' })).toThrow(ConfigError);
    expect(() => loadConfig({ MODEL_PRICES: '{"gpt-4o": {"input": -1, "output": 1}}' })).toThrow(ConfigError);
  });
});

describe('estimateCostUsd', () => {
  it('prices prompt and completion tokens per million', () => {
    expect(estimateCostUsd('gpt-4.1-mini', 1000, 500)).toBeCloseTo((1000 * 0.4 + 500 * 1.6) / 1e6, 12);
    expect(estimateCostUsd('openai/gpt-4o', 2_000_000, 0)).toBeCloseTo(5);
  });

  it('prices a dated snapshot like its family, choosing the longest match', () => {
    expect(estimateCostUsd('gpt-4o-2024-08-06', 1_000_000, 0)).toBeCloseTo(2.5);
    expect(estimateCostUsd('gpt-4o-mini-2024-07-18', 1_000_000, 0)).toBeCloseTo(0.15);
  });

  it('prices Anthropic models by family, with cache reads and writes at their own prices', () => {
    expect(estimateCostUsd('anthropic/claude-sonnet-4-5-20250929', 1_000_000, 1_000_000)).toBeCloseTo(18);
    const cache = { readTokens: 600_000, writeTokens: 300_000 };
    // 100k uncached at 3, 600k read at 0.30, 300k written at 3.75 (per million).
    expect(estimateCostUsd('anthropic/claude-sonnet-4-5', 1_000_000, 0, undefined, cache)).toBeCloseTo(
      0.3 + 0.18 + 1.125,
    );
    expect(estimateCostUsd('mistral/mistral-large-latest', 1_000_000, 1_000_000)).toBeCloseTo(8);
  });

  it('costs nothing offline, for unknown models, and for other servers’ models', () => {
    expect(estimateCostUsd('offline', 5000, 5000)).toBe(0);
    expect(estimateCostUsd('mystery-model', 5000, 5000)).toBe(0);
    expect(estimateCostUsd('ollama/gpt-4o', 5000, 5000)).toBe(0);
  });
});
