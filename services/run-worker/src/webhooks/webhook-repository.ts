// Data access for sending webhooks: the endpoints a run event goes to, its messages, and the delivery log.
import { type Db, newId, schema, type WebhookEventType } from '@threadwork/shared';
import { and, eq, isNull, sql } from 'drizzle-orm';

const { runs, webhookDeliveries, webhookEndpoints, webhookMessages } = schema;

export async function findRun(db: Db, runId: string) {
  const [row] = await db.select().from(runs).where(eq(runs.id, runId));
  return row ?? null;
}

/** The enabled endpoints of the run's owner that subscribe to `type` (one query: most runs have none). */
export function subscribedEndpoints(db: Db, runId: string, type: WebhookEventType) {
  return db
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .innerJoin(runs, eq(runs.ownerId, webhookEndpoints.ownerId))
    .where(
      and(
        eq(runs.id, runId),
        isNull(webhookEndpoints.disabledAt),
        sql`${webhookEndpoints.events} @> ${JSON.stringify([type])}::jsonb`,
      ),
    );
}

/** The message of a run event for an endpoint: written once; a repeated dispatch answers the same id. */
export async function upsertMessage(
  db: Db,
  message: { endpointId: string; runId: string; seq: number; type: WebhookEventType; body: string },
): Promise<{ id: string; status: string }> {
  const [row] = await db
    .insert(webhookMessages)
    .values({ id: newId('webhookMessage'), ...message })
    .onConflictDoUpdate({
      target: [webhookMessages.endpointId, webhookMessages.runId, webhookMessages.seq],
      set: { seq: sql`excluded.seq` },
    })
    .returning({ id: webhookMessages.id, status: webhookMessages.status });
  if (!row) throw new Error('upserting a webhook message returned no row');
  return row;
}

/** A message with what sending it needs from its endpoint; null once the endpoint is deleted. */
export async function findMessage(db: Db, messageId: string) {
  const [row] = await db
    .select({
      id: webhookMessages.id,
      body: webhookMessages.body,
      status: webhookMessages.status,
      endpointId: webhookEndpoints.id,
      url: webhookEndpoints.url,
      secret: webhookEndpoints.secret,
      disabledAt: webhookEndpoints.disabledAt,
    })
    .from(webhookMessages)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookMessages.endpointId))
    .where(eq(webhookMessages.id, messageId));
  return row ?? null;
}

export async function recordDelivery(
  db: Db,
  delivery: {
    messageId: string;
    endpointId: string;
    attempt: number;
    statusCode: number | null;
    durationMs: number;
    error: string | null;
    nextRetryAt: Date | null;
  },
): Promise<void> {
  await db.insert(webhookDeliveries).values(delivery);
}

export async function settleMessage(
  db: Db,
  messageId: string,
  status: 'delivered' | 'failed' | 'skipped',
): Promise<void> {
  await db.update(webhookMessages).set({ status }).where(eq(webhookMessages.id, messageId));
}

/** A delivered message: the endpoint's run of failures is over. */
export async function resetFailures(db: Db, endpointId: string): Promise<void> {
  await db
    .update(webhookEndpoints)
    .set({ consecutiveFailures: 0 })
    .where(and(eq(webhookEndpoints.id, endpointId), sql`${webhookEndpoints.consecutiveFailures} > 0`));
}

/**
 * A message whose every retry failed: counted, and the endpoint disabled (with `reason`) when `limit` messages in a
 * row have failed. Answers whether this disabled it.
 */
export async function countExhaustedMessage(
  db: Db,
  endpointId: string,
  limit: number,
  reason: string,
): Promise<boolean> {
  const reachesLimit = sql`${webhookEndpoints.consecutiveFailures} + 1 >= ${limit} and ${webhookEndpoints.disabledAt} is null`;
  const [row] = await db
    .update(webhookEndpoints)
    .set({
      consecutiveFailures: sql`${webhookEndpoints.consecutiveFailures} + 1`,
      disabledAt: sql`case when ${reachesLimit} then now() else ${webhookEndpoints.disabledAt} end`,
      disabledReason: sql`case when ${reachesLimit} then ${reason} else ${webhookEndpoints.disabledReason} end`,
    })
    .where(eq(webhookEndpoints.id, endpointId))
    .returning({ disabledAt: webhookEndpoints.disabledAt, failures: webhookEndpoints.consecutiveFailures });
  return row !== undefined && row.disabledAt !== null && row.failures === limit;
}
