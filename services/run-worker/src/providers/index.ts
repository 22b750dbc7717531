// Model routing: a run's model name picks the provider that serves it.
import { ApiError } from '@threadwork/shared';
import { createOfflineProvider } from './offline.js';
import type { ModelProvider } from './types.js';

export interface ProviderSettings {
  offlineTokenDelayMs: number;
}

export interface ResolvedModel {
  provider: ModelProvider;
  model: string;
}

export interface ProviderRegistry {
  resolve(modelName: string): ResolvedModel;
}

export function createProviderRegistry(settings: ProviderSettings): ProviderRegistry {
  const offline = createOfflineProvider({ tokenDelayMs: settings.offlineTokenDelayMs });
  return {
    resolve(modelName) {
      if (modelName === 'offline') return { provider: offline, model: 'offline' };
      throw new ApiError(400, `The model '${modelName}' does not exist or you do not have access to it.`, {
        param: 'model',
        code: 'model_not_found',
      });
    },
  };
}
