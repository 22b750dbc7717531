// Model routing rules shared by the API (refuse unknown models at creation) and the run worker (pick a provider).
import type { Config } from './config.js';

export type ProviderKind = 'offline' | 'openai';

export interface ModelRoute {
  provider: ProviderKind;
  /** The model name the provider receives. */
  model: string;
}

/** Where a model name goes, or null when nothing configured can serve it. */
export function routeModel(name: string, config: Pick<Config, 'OPENAI_API_KEY'>): ModelRoute | null {
  if (name === 'offline') return { provider: 'offline', model: 'offline' };
  const slash = name.indexOf('/');
  if (slash > 0) {
    const prefix = name.slice(0, slash);
    const model = name.slice(slash + 1);
    if (prefix === 'openai' && model.length > 0 && config.OPENAI_API_KEY) return { provider: 'openai', model };
    return null;
  }
  return config.OPENAI_API_KEY ? { provider: 'openai', model: name } : null;
}
