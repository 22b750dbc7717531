// MODEL_FALLBACKS: a chain of models tried in turn, each after its own retries, until one answers.
import type { Logger } from '@threadwork/shared';
import { isModelOutput, type ModelEvent, type ModelProvider, ProviderError } from './types.js';

/** One model of a chain: its name as runs give it, the provider that serves it, and the name that provider takes. */
export interface ChainLink {
  name: string;
  provider: ModelProvider;
  model: string;
}

/** Whether the next model should be tried: the failure is one another attempt could get past. */
function isFailover(error: unknown): error is ProviderError {
  return error instanceof ProviderError && error.isRetryable;
}

/**
 * A provider that tries each link in order. A link that fails with a retryable error after its retries, before
 * anything was yielded, hands over to the next, announced with a `failover` event; any other failure, and any
 * failure once output has been yielded, is final. Cancellation is never a failover.
 */
export function withFallbacks(links: readonly [ChainLink, ...ChainLink[]], log: Logger): ModelProvider {
  const [primary] = links;
  const embed = primary.provider.embed?.bind(primary.provider);
  return {
    name: primary.provider.name,
    // Embeddings are not failed over: another model's vectors live in another space.
    ...(embed ? { embed } : {}),
    async *stream(request, signal): AsyncGenerator<ModelEvent> {
      for (const [index, link] of links.entries()) {
        let hasOutput = false;
        try {
          for await (const event of link.provider.stream({ ...request, model: link.model }, signal)) {
            hasOutput ||= isModelOutput(event);
            yield event;
          }
          return;
        } catch (error) {
          const next = links[index + 1];
          if (signal.aborted || hasOutput || !next || !isFailover(error)) throw error;
          log.warn(
            { model: link.name, fallback: next.name, code: error.code, reason: error.message },
            'model failed, failing over',
          );
          yield { type: 'failover', from: link.name, to: next.name, reason: error.message };
        }
      }
    },
  };
}
