// One attempt to deliver a message: send it, log the attempt, then settle the message when it was delivered or
// its last retry failed (counting the failure against its endpoint, which is disabled after too many in a row).
import { retryDelayMs } from '@threadwork/shared';
import { isSuccess, sendWebhook } from './send-webhook.js';
import {
  countExhaustedMessage,
  findMessage,
  recordDelivery,
  resetFailures,
  settleMessage,
} from './webhook-repository.js';
import type { WebhookDeps } from './webhook-worker.js';

export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed' | 'skipped';

/** Thrown for a failed attempt, so BullMQ retries it on the `webhook` backoff (or fails it when none are left). */
export class WebhookAttemptError extends Error {
  override name = 'WebhookAttemptError';
}

/** `attempt` is 1-based; `attempts` is how many the job was given. */
export async function deliverWebhook(
  deps: WebhookDeps,
  messageId: string,
  attempt: number,
  attempts: number,
): Promise<DeliveryOutcome> {
  const message = await findMessage(deps.db, messageId);
  if (message?.status !== 'pending') return 'skipped';
  if (message.disabledAt) {
    await settleMessage(deps.db, messageId, 'skipped');
    return 'skipped';
  }
  const now = deps.now();
  const result = await sendWebhook({
    url: message.url,
    secret: message.secret,
    messageId,
    body: message.body,
    timeoutMs: deps.config.WEBHOOK_TIMEOUT_MS,
    allowPrivate: deps.config.WEBHOOK_ALLOW_PRIVATE,
    now,
  });
  const delivered = isSuccess(result.statusCode);
  const retryIn =
    delivered || attempt >= attempts ? null : retryDelayMs(deps.config.WEBHOOK_RETRY_DELAYS, attempt);
  await recordDelivery(deps.db, {
    messageId,
    endpointId: message.endpointId,
    attempt,
    ...result,
    nextRetryAt: retryIn === null ? null : new Date(now.getTime() + result.durationMs + retryIn),
  });
  if (delivered) {
    await settleMessage(deps.db, messageId, 'delivered');
    await resetFailures(deps.db, message.endpointId);
    return 'delivered';
  }
  if (retryIn === null) await giveUp(deps, message.endpointId, messageId, result.error);
  throw new WebhookAttemptError(`Attempt ${attempt} of ${attempts} failed: ${result.error}`);
}

async function giveUp(deps: WebhookDeps, endpointId: string, messageId: string, error: string | null) {
  await settleMessage(deps.db, messageId, 'failed');
  const limit = deps.config.WEBHOOK_DISABLE_AFTER_FAILURES;
  const reason = `${limit} messages in a row failed every attempt; the last: ${error ?? 'unknown error'}`;
  if (await countExhaustedMessage(deps.db, endpointId, limit, reason)) {
    deps.log.warn({ endpointId, messageId }, 'webhook endpoint disabled: %s', reason);
  }
}
