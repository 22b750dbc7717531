// The MODEL_PROVIDERS presets of docs/providers.md, each run through the registry against the wire server.
import { createLogger, loadConfig } from '@threadwork/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderRegistry } from '../../src/providers/index.js';
import { type OpenAITestServer, startOpenAIServer, textReply } from '../support/openai-server.js';
import { collect, modelRequest } from './model-request.js';

const log = createLogger({ name: 'presets-test', level: 'silent', pretty: false });

/** The documented presets: name, key (none for local servers), and a model name each serves. */
const PRESETS = [
  { name: 'mistral', apiKey: 'mistral-key', model: 'mistral-large-latest' },
  { name: 'ollama', apiKey: undefined, model: 'llama3.1' },
  { name: 'vllm', apiKey: 'token-abc', model: 'meta-llama/Llama-3.1-8B-Instruct' },
  { name: 'openrouter', apiKey: 'sk-or-test', model: 'anthropic/claude-sonnet-4' },
  { name: 'groq', apiKey: 'gsk_test', model: 'llama-3.3-70b-versatile' },
  { name: 'lmstudio', apiKey: undefined, model: 'qwen2.5-7b-instruct' },
];

let server: OpenAITestServer;

beforeAll(async () => {
  server = await startOpenAIServer();
});

afterAll(async () => {
  await server.close();
});

/** Every preset's MODEL_PROVIDERS entry, as documented, with the wire server as its base URL. */
function presetEntries(baseURL: string): string {
  const entries = PRESETS.map((preset) => [
    preset.name,
    { baseURL, apiMode: 'chat', ...(preset.apiKey ? { apiKey: preset.apiKey } : {}) },
  ]);
  return JSON.stringify(Object.fromEntries(entries));
}

describe('MODEL_PROVIDERS presets', () => {
  it.each(PRESETS)('$name serves $name/$model over Chat Completions', async (preset) => {
    const config = loadConfig({ MODEL_PROVIDERS: presetEntries(server.url) });
    const { provider, model } = createProviderRegistry(config, log).resolve(`${preset.name}/${preset.model}`);
    expect(provider.name).toBe(preset.name);
    server.script(textReply('Hi from a preset.'));
    const request = modelRequest({
      model,
      messages: [{ role: 'user', content: 'Hello' }],
      maxOutputTokens: 64,
    });
    const events = await collect(provider.stream(request, new AbortController().signal));
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    const received = server.requests.at(-1);
    expect(received?.path).toBe('/v1/chat/completions');
    expect(received?.body).toMatchObject({ model: preset.model, max_tokens: 64, stream: true });
    expect(received?.headers.authorization).toBe(`Bearer ${preset.apiKey ?? 'no-key'}`);
  });
});
