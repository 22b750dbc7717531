// Model routing: a run's model name picks the provider that serves it (offline, OpenAI, Anthropic, or a compatible
// server).
import {
  ApiError,
  type Config,
  isOpenAIBaseURL,
  type Logger,
  type ModelRoute,
  type PriceTable,
  routeModel,
} from '@threadwork/shared';
import { createAnthropicProvider } from './anthropic.js';
import { createOfflineProvider } from './offline.js';
import { createOpenAIProvider } from './openai.js';
import type { MaxTokensField } from './openai-chat.js';
import { withPriceOverrides } from './pricing.js';
import type { ModelProvider } from './types.js';

interface ResolvedModel {
  provider: ModelProvider;
  model: string;
}

export interface ProviderRegistry {
  /** The provider for a model name; throws ApiError 400 `model_not_found` when nothing configured serves it. */
  resolve(modelName: string): ResolvedModel;
  /** The default prices with MODEL_PRICES laid over them, for estimateCostUsd. */
  readonly prices: PriceTable;
}

/** Servers that need no key still get one: the SDK refuses to start without it. */
const PLACEHOLDER_KEY = 'no-key';

type OpenAIRoute = Extract<ModelRoute, { provider: 'openai' }>;

function apiKeyFor(route: OpenAIRoute, config: Config): string {
  if (route.endpoint === 'openai') return config.OPENAI_API_KEY ?? PLACEHOLDER_KEY;
  return config.MODEL_PROVIDERS[route.endpoint]?.apiKey ?? PLACEHOLDER_KEY;
}

function maxTokensFieldFor(baseURL: string): MaxTokensField {
  return isOpenAIBaseURL(baseURL) ? 'max_completion_tokens' : 'max_tokens';
}

export function createProviderRegistry(config: Config, log: Logger): ProviderRegistry {
  const offline = createOfflineProvider({ tokenDelayMs: config.OFFLINE_TOKEN_DELAY_MS });
  const servers = new Map<string, ModelProvider>();
  const retry = {
    maxRetries: config.MODEL_MAX_RETRIES,
    baseDelayMs: config.MODEL_RETRY_BASE_DELAY_MS,
    maxDelayMs: config.MODEL_RETRY_MAX_DELAY_MS,
  };
  let anthropic: ModelProvider | null = null;

  function anthropicProvider(): ModelProvider {
    anthropic ??= createAnthropicProvider({
      baseURL: config.ANTHROPIC_BASE_URL,
      apiKey: config.ANTHROPIC_API_KEY ?? PLACEHOLDER_KEY,
      timeoutMs: config.MODEL_TIMEOUT_MS,
      retry,
      log,
    });
    return anthropic;
  }

  function serverProvider(route: OpenAIRoute): ModelProvider {
    const existing = servers.get(route.endpoint);
    if (existing) return existing;
    const provider = createOpenAIProvider({
      name: route.endpoint,
      baseURL: route.baseURL,
      apiKey: apiKeyFor(route, config),
      apiMode: route.apiMode,
      maxTokensField: maxTokensFieldFor(route.baseURL),
      timeoutMs: config.MODEL_TIMEOUT_MS,
      retry,
      log,
    });
    servers.set(route.endpoint, provider);
    return provider;
  }

  return {
    prices: withPriceOverrides(config.MODEL_PRICES),
    resolve(modelName) {
      const route = routeModel(modelName, config);
      if (!route) {
        throw new ApiError(400, `The model '${modelName}' does not exist or you do not have access to it.`, {
          param: 'model',
          code: 'model_not_found',
        });
      }
      if (route.provider === 'offline') return { provider: offline, model: route.model };
      if (route.provider === 'anthropic') return { provider: anthropicProvider(), model: route.model };
      return { provider: serverProvider(route), model: route.model };
    },
  };
}
