// A model that answers from a script: its events in order, and actions of other actors run between them.
import type { ProviderRegistry } from '../../src/providers/index.js';
import type { ModelEvent, ModelProvider } from '../../src/providers/types.js';

/** An event the model sends, or something another actor does at that point of the answer. */
export type ModelStep = ModelEvent | (() => Promise<unknown>);

export function scriptedModel(steps: ModelStep[]): ProviderRegistry {
  const provider: ModelProvider = {
    name: 'scripted',
    async *stream() {
      for (const step of steps) {
        if (typeof step === 'function') await step();
        else yield step;
      }
    },
  };
  return { prices: {}, resolve: (model) => ({ provider, model }) };
}
