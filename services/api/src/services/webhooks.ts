// Webhook endpoints: registered with a public http(s) URL and a new signing secret (shown once); listed, deleted
// and their delivery log read within the caller's scope.
import { randomBytes } from 'node:crypto';
import {
  ApiError,
  newId,
  notFound,
  parseWebhookUrl,
  refusePrivateHost,
  unixSeconds,
  type WebhookEventType,
  WebhookUrlError,
  webhookEndpointsChannel,
} from '@threadwork/shared';
import { isAdmin, type Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import {
  deleteWebhookEndpoint,
  findWebhookEndpoint,
  insertWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  type WebhookScope,
} from '../repositories/webhooks.js';
import type { CreateWebhookInput } from '../schemas/webhooks.js';

export interface CreatedWebhook {
  id: string;
  object: 'webhook_endpoint';
  url: string;
  events: WebhookEventType[];
  created_at: number;
  secret: string;
}

export interface WebhookObject {
  id: string;
  object: 'webhook_endpoint';
  url: string;
  events: WebhookEventType[];
  created_at: number;
  status: 'enabled' | 'disabled';
  disabled_at: number | null;
  disabled_reason: string | null;
  consecutive_failures: number;
}

export interface WebhookDeliveryObject {
  id: number;
  object: 'webhook_delivery';
  message_id: string;
  type: WebhookEventType;
  run_id: string;
  attempt: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  next_retry_at: number | null;
  created_at: number;
}

/**
 * The one place that decides whose endpoints a caller manages: a key its project's (the owner of its runs, whose
 * endpoints those runs' events go to), a deployment admin everyone's; end users' own tokens none.
 */
export function webhookScope(principal: Principal): WebhookScope & { owner: string } {
  if (principal.role === 'end_user') {
    throw new ApiError(403, 'End-user tokens cannot manage webhooks; use a key of the project.', {
      type: 'permission_error',
      code: 'end_user_not_allowed',
    });
  }
  return { owner: principal.projectId, ownerId: isAdmin(principal) ? null : principal.projectId };
}

/** A Standard Webhooks secret: `whsec_` and 24 random bytes in base64. */
function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

async function checkUrl(deps: AppDeps, raw: string): Promise<string> {
  try {
    const url = parseWebhookUrl(raw);
    if (!deps.config.WEBHOOK_ALLOW_PRIVATE) await refusePrivateHost(url);
    return url.href;
  } catch (error) {
    if (error instanceof WebhookUrlError) throw new ApiError(400, error.message, { param: 'url' });
    throw error;
  }
}

export async function createWebhook(
  deps: AppDeps,
  principal: Principal,
  input: CreateWebhookInput,
): Promise<CreatedWebhook> {
  const url = await checkUrl(deps, input.url);
  const secret = newSecret();
  const row = await insertWebhookEndpoint(deps.db, {
    id: newId('webhook'),
    ownerId: webhookScope(principal).owner,
    url,
    events: input.events,
    secret,
  });
  // Every process stops skipping the dispatch of run endings (it skips while the deployment has no endpoint).
  await deps.redis.publish(webhookEndpointsChannel(deps.config.QUEUE_PREFIX), row.id);
  return {
    id: row.id,
    object: 'webhook_endpoint',
    url,
    events: row.events,
    created_at: unixSeconds(row.createdAt),
    secret,
  };
}

export async function listWebhooks(
  deps: AppDeps,
  principal: Principal,
): Promise<{ object: 'list'; data: WebhookObject[] }> {
  const rows = await listWebhookEndpoints(deps.db, webhookScope(principal));
  return {
    object: 'list',
    data: rows.map((row) => ({
      id: row.id,
      object: 'webhook_endpoint',
      url: row.url,
      events: row.events,
      created_at: unixSeconds(row.createdAt),
      status: row.disabledAt ? 'disabled' : 'enabled',
      disabled_at: unixSeconds(row.disabledAt),
      disabled_reason: row.disabledReason,
      consecutive_failures: row.consecutiveFailures,
    })),
  };
}

export async function deleteWebhook(deps: AppDeps, principal: Principal, id: string): Promise<void> {
  if (!(await deleteWebhookEndpoint(deps.db, webhookScope(principal), id))) throw notFound('webhook', id);
}

export async function listDeliveries(
  deps: AppDeps,
  principal: Principal,
  id: string,
  limit: number,
): Promise<{ object: 'list'; data: WebhookDeliveryObject[] }> {
  if (!(await findWebhookEndpoint(deps.db, webhookScope(principal), id))) throw notFound('webhook', id);
  const rows = await listWebhookDeliveries(deps.db, id, limit);
  return {
    object: 'list',
    data: rows.map((row) => ({
      id: row.id,
      object: 'webhook_delivery',
      message_id: row.messageId,
      type: row.type,
      run_id: row.runId,
      attempt: row.attempt,
      status_code: row.statusCode,
      duration_ms: row.durationMs,
      error: row.error,
      next_retry_at: unixSeconds(row.nextRetryAt),
      created_at: unixSeconds(row.createdAt),
    })),
  };
}
