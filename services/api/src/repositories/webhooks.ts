// Data access for webhook endpoints and their delivery log; every query is narrowed by the caller's scope.
import { type Db, schema, type WebhookEventType } from '@threadwork/shared';
import { and, desc, eq, type SQL } from 'drizzle-orm';

const { webhookDeliveries, webhookEndpoints, webhookMessages } = schema;

/** Whose endpoints a caller sees: one owner's, or (`ownerId: null`) everyone's. */
export interface WebhookScope {
  ownerId: string | null;
}

function inScope(scope: WebhookScope, id?: string): SQL | undefined {
  return and(
    scope.ownerId === null ? undefined : eq(webhookEndpoints.ownerId, scope.ownerId),
    id === undefined ? undefined : eq(webhookEndpoints.id, id),
  );
}

const endpointColumns = {
  id: webhookEndpoints.id,
  url: webhookEndpoints.url,
  events: webhookEndpoints.events,
  consecutiveFailures: webhookEndpoints.consecutiveFailures,
  disabledAt: webhookEndpoints.disabledAt,
  disabledReason: webhookEndpoints.disabledReason,
  createdAt: webhookEndpoints.createdAt,
};

export async function insertWebhookEndpoint(
  db: Db,
  endpoint: { id: string; ownerId: string; url: string; events: WebhookEventType[]; secret: string },
) {
  const [row] = await db.insert(webhookEndpoints).values(endpoint).returning(endpointColumns);
  if (!row) throw new Error('inserting a webhook endpoint returned no row');
  return row;
}

/** Newest first. */
export function listWebhookEndpoints(db: Db, scope: WebhookScope) {
  return db
    .select(endpointColumns)
    .from(webhookEndpoints)
    .where(inScope(scope))
    .orderBy(desc(webhookEndpoints.id));
}

export async function findWebhookEndpoint(db: Db, scope: WebhookScope, id: string) {
  const [row] = await db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(inScope(scope, id));
  return row ?? null;
}

/** Answers whether an endpoint was deleted (its messages and delivery log go with it). */
export async function deleteWebhookEndpoint(db: Db, scope: WebhookScope, id: string): Promise<boolean> {
  const rows = await db
    .delete(webhookEndpoints)
    .where(inScope(scope, id))
    .returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}

/** The endpoint's delivery attempts, newest first. */
export function listWebhookDeliveries(db: Db, endpointId: string, limit: number) {
  return db
    .select({
      id: webhookDeliveries.id,
      messageId: webhookDeliveries.messageId,
      type: webhookMessages.type,
      runId: webhookMessages.runId,
      attempt: webhookDeliveries.attempt,
      statusCode: webhookDeliveries.statusCode,
      durationMs: webhookDeliveries.durationMs,
      error: webhookDeliveries.error,
      nextRetryAt: webhookDeliveries.nextRetryAt,
      createdAt: webhookDeliveries.createdAt,
    })
    .from(webhookDeliveries)
    .innerJoin(webhookMessages, eq(webhookMessages.id, webhookDeliveries.messageId))
    .where(eq(webhookDeliveries.endpointId, endpointId))
    .orderBy(desc(webhookDeliveries.id))
    .limit(limit);
}
