// Model routing: a run's model name picks the provider that serves it (offline, OpenAI, Anthropic, or a compatible
// server).
import {
  ApiError,
  type Config,
  ConfigError,
  isOpenAIBaseURL,
  type Logger,
  type ModelRoute,
  type PriceTable,
  routeModel,
} from '@threadwork/shared';
import { createAnthropicProvider } from './anthropic.js';
import { type ChainLink, withFallbacks } from './fallbacks.js';
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
  /** The model names this deployment routes and knows of: offline, the default, fallbacks, priced models. */
  models(): string[];
}

/** A table key as a routable name: the price table names OpenAI's and Anthropic's own models without a prefix. */
function routableName(key: string): string {
  if (key === 'offline' || key.includes('/')) return key;
  return key.startsWith('claude') ? `anthropic/${key}` : `openai/${key}`;
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

  /** The one model a name routes to, or null. */
  function link(modelName: string): ChainLink | null {
    const route = routeModel(modelName, config);
    if (!route) return null;
    if (route.provider === 'offline') return { name: modelName, provider: offline, model: route.model };
    if (route.provider === 'anthropic') {
      return { name: modelName, provider: anthropicProvider(), model: route.model };
    }
    return { name: modelName, provider: serverProvider(route), model: route.model };
  }

  const chains = fallbackChains(config, link, log);
  const prices = withPriceOverrides(config.MODEL_PRICES);

  return {
    prices,
    models() {
      const named = [
        ...Object.entries(config.MODEL_FALLBACKS).flat(2),
        ...Object.keys(prices).map(routableName),
        ...Object.keys(config.MODEL_CONTEXT_TOKENS).map(routableName),
      ];
      const known = new Set(['offline', config.defaultModel, ...named.sort()]);
      return [...known].filter((name) => routeModel(name, config) !== null);
    },
    resolve(modelName) {
      const chain = chains.get(modelName);
      if (chain) return { provider: chain, model: link(modelName)?.model ?? modelName };
      const only = link(modelName);
      if (!only) {
        throw new ApiError(400, `The model '${modelName}' does not exist or you do not have access to it.`, {
          param: 'model',
          code: 'model_not_found',
        });
      }
      return { provider: only.provider, model: only.model };
    },
  };
}

/** One provider per MODEL_FALLBACKS rule; a rule naming a model that routes nowhere stops start-up. */
function fallbackChains(
  config: Config,
  link: (name: string) => ChainLink | null,
  log: Logger,
): Map<string, ModelProvider> {
  const chains = new Map<string, ModelProvider>();
  for (const [primary, fallbacks] of Object.entries(config.MODEL_FALLBACKS)) {
    const links = [primary, ...fallbacks].map((name) => {
      const found = link(name);
      if (!found) {
        throw new ConfigError(
          `Invalid configuration: MODEL_FALLBACKS: '${name}' is not a model this deployment routes`,
        );
      }
      return found;
    });
    chains.set(primary, withFallbacks(links as [ChainLink, ...ChainLink[]], log));
  }
  return chains;
}
