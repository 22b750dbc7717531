import { ConfigError, embedderFromConfig, loadConfig, OFFLINE_EMBEDDING_MODEL } from '@threadwork/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  embeddingsReply,
  errorReply,
  type OpenAITestServer,
  startOpenAIServer,
} from '../support/openai-server.js';

let server: OpenAITestServer;

beforeAll(async () => {
  server = await startOpenAIServer();
});

afterAll(async () => {
  await server.close();
});

function upstreamConfig(extra: Record<string, string> = {}) {
  return loadConfig({
    NODE_ENV: 'test',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: server.url,
    MODEL_MAX_RETRIES: '2',
    ...extra,
  });
}

describe('embedderFromConfig', () => {
  it('is the offline embedding, labelled so, when no key or EMBEDDING_MODEL is configured', async () => {
    const embedder = embedderFromConfig(loadConfig({ NODE_ENV: 'test' }));
    expect(embedder).toMatchObject({ model: OFFLINE_EMBEDDING_MODEL, isOffline: true, dimensions: 256 });
    const [first, again] = await embedder.embed(['the same text', 'the same text']);
    expect(first).toHaveLength(256);
    expect(again).toEqual(first);
  });

  it('defaults to openai/text-embedding-3-small with a key, and retries a transient failure', async () => {
    const embedder = embedderFromConfig(upstreamConfig());
    expect(embedder).toMatchObject({
      model: 'openai/text-embedding-3-small',
      isOffline: false,
      dimensions: 1536,
    });
    const before = server.requests.length;
    server.script(
      errorReply(503),
      embeddingsReply([
        [1, 0],
        [0, 1],
      ]),
    );
    expect(await embedder.embed(['first', 'second'])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    const sent = server.requests.slice(before);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.body).toMatchObject({
      model: 'text-embedding-3-small',
      input: ['first', 'second'],
      encoding_format: 'float',
    });
  });

  it('sends long inputs in batches and keeps their order', async () => {
    const embedder = embedderFromConfig(upstreamConfig());
    const texts = Array.from({ length: 70 }, (_, index) => `text ${index}`);
    server.script(
      embeddingsReply(texts.slice(0, 64).map((_, index) => [index])),
      embeddingsReply(texts.slice(64).map((_, index) => [64 + index])),
    );
    const vectors = await embedder.embed(texts);
    expect(vectors.map((vector) => vector[0])).toEqual(texts.map((_, index) => index));
  });

  it('serves a MODEL_PROVIDERS server with EMBEDDING_DIMENSIONS, sent as dimensions', async () => {
    const embedder = embedderFromConfig(
      upstreamConfig({
        MODEL_PROVIDERS: JSON.stringify({ ollama: { baseURL: server.url } }),
        EMBEDDING_MODEL: 'ollama/nomic-embed-text',
        EMBEDDING_DIMENSIONS: '2',
      }),
    );
    expect(embedder.dimensions).toBe(2);
    server.script(embeddingsReply([[0.6, 0.8]]));
    await embedder.embed(['hello']);
    expect(server.requests.at(-1)?.body).toMatchObject({ model: 'nomic-embed-text', dimensions: 2 });
  });

  it('refuses a model of unknown size or one no embeddings endpoint serves', () => {
    expect(() => embedderFromConfig(upstreamConfig({ EMBEDDING_MODEL: 'openai/some-embedder' }))).toThrow(
      ConfigError,
    );
    expect(() => embedderFromConfig(upstreamConfig({ EMBEDDING_MODEL: 'nowhere/model' }))).toThrow(
      ConfigError,
    );
  });
});
