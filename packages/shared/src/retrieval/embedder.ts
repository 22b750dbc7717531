// Embeddings for retrieval: EMBEDDING_MODEL through an OpenAI-compatible embeddings endpoint, or the offline embedding.
import OpenAI from 'openai';
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import { routeModel } from '../models.js';
import {
  OFFLINE_EMBEDDING_DIMENSIONS,
  OFFLINE_EMBEDDING_MODEL,
  offlineEmbedding,
} from './offline-embedding.js';

export interface Embedder {
  /** As configured (`openai/text-embedding-3-small`, `ollama/nomic-embed-text`, `offline-embedding`). */
  model: string;
  isOffline: boolean;
  dimensions: number;
  /** One vector per text, in order. */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

/** Vectors for texts, one per text in order, and the tokens the input cost. */
export interface Embeddings {
  vectors: number[][];
  promptTokens: number;
}

/** Dimensions of the embedding models whose size is known without asking. */
const knownDimensions: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/** Inputs per request: well inside OpenAI's 2,048 inputs and 300,000 tokens for 800-token chunks. */
const BATCH_SIZE = 64;

/** One embeddings request to an OpenAI-compatible server; errors are the SDK's, for the caller to classify. */
export async function requestEmbeddings(
  client: OpenAI,
  request: { model: string; texts: string[]; dimensions?: number },
  signal?: AbortSignal,
): Promise<Embeddings> {
  // Float vectors, not the SDK's default base64: every compatible server (Ollama, vLLM) speaks floats.
  const response = await client.embeddings.create(
    {
      model: request.model,
      input: request.texts,
      encoding_format: 'float',
      ...(request.dimensions ? { dimensions: request.dimensions } : {}),
    },
    { signal },
  );
  const vectors = [...response.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
  return { vectors, promptTokens: response.usage?.prompt_tokens ?? 0 };
}

export function offlineEmbedder(): Embedder {
  return {
    model: OFFLINE_EMBEDDING_MODEL,
    isOffline: true,
    dimensions: OFFLINE_EMBEDDING_DIMENSIONS,
    embed: async (texts) => texts.map(offlineEmbedding),
  };
}

function embeddingModelName(config: Config): string {
  if (config.EMBEDDING_MODEL) return config.EMBEDDING_MODEL;
  return config.OPENAI_API_KEY ? 'openai/text-embedding-3-small' : OFFLINE_EMBEDDING_MODEL;
}

function configError(message: string): ConfigError {
  return new ConfigError(`Invalid configuration: EMBEDDING_MODEL: ${message}`);
}

/**
 * The embedder EMBEDDING_MODEL names. The SDK retries transient failures (connection errors, 408, 409, 429, 5xx)
 * with backoff, up to MODEL_MAX_RETRIES times; each request waits at most MODEL_TIMEOUT_MS.
 */
export function embedderFromConfig(config: Config): Embedder {
  const name = embeddingModelName(config);
  if (name === OFFLINE_EMBEDDING_MODEL) return offlineEmbedder();
  const route = routeModel(name, config);
  if (!route) throw configError(`'${name}' is not a model this deployment routes`);
  if (route.provider !== 'openai') throw configError(`'${name}' is not served by an embeddings endpoint`);
  const dimensions = config.EMBEDDING_DIMENSIONS ?? knownDimensions[route.model];
  if (!dimensions) throw configError(`the dimensions of '${name}' are unknown: set EMBEDDING_DIMENSIONS`);
  const apiKey =
    route.endpoint === 'openai' ? config.OPENAI_API_KEY : config.MODEL_PROVIDERS[route.endpoint]?.apiKey;
  const client = new OpenAI({
    apiKey: apiKey ?? 'no-key',
    baseURL: route.baseURL,
    maxRetries: config.MODEL_MAX_RETRIES,
    timeout: config.MODEL_TIMEOUT_MS,
  });
  return {
    model: name,
    isOffline: false,
    dimensions,
    async embed(texts, signal) {
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += BATCH_SIZE) {
        const batch = await requestEmbeddings(
          client,
          {
            model: route.model,
            texts: texts.slice(start, start + BATCH_SIZE),
            ...(config.EMBEDDING_DIMENSIONS ? { dimensions: config.EMBEDDING_DIMENSIONS } : {}),
          },
          signal,
        );
        vectors.push(...batch.vectors);
      }
      return vectors;
    },
  };
}
