// A model that answers from a script: its events in order, and actions of other actors run between them.
import type { ProviderRegistry } from '../../src/providers/index.js';
import type { ModelEvent, ModelProvider, ModelRequest } from '../../src/providers/types.js';

/**
 * An event the model sends, or something another actor does at that point of the answer (given the call's abort
 * signal; the answer stops there, as a provider's would, once the signal is aborted).
 */
export type ModelStep = ModelEvent | ((signal: AbortSignal) => Promise<unknown>);

/** `requests`, when given, receives each request the model is sent. */
export function scriptedModel(steps: ModelStep[], requests?: ModelRequest[]): ProviderRegistry {
  const provider: ModelProvider = {
    name: 'scripted',
    async *stream(request, signal) {
      requests?.push(request);
      for (const step of steps) {
        if (typeof step !== 'function') {
          yield step;
          continue;
        }
        await step(signal);
        signal.throwIfAborted();
      }
    },
  };
  return { prices: {}, resolve: (model) => ({ provider, model }), models: () => [] };
}

/** Resolves once `signal` is aborted. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
