// Data access for usage_logs rows the API writes: one per model gateway call (runs' rows are the run core's).
import { type Db, schema } from '@threadwork/shared';

export interface GatewayUsage {
  /** The gateway call's id (`gw_…`), in the column runs use for their id. */
  callId: string;
  ownerId: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number;
  firstTokenMs: number | null;
}

export async function insertGatewayUsage(db: Db, usage: GatewayUsage): Promise<void> {
  await db.insert(schema.usageLogs).values({
    runId: usage.callId,
    ownerId: usage.ownerId,
    model: usage.model,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    totalTokens: usage.promptTokens + usage.completionTokens,
    costUsd: usage.costUsd.toFixed(8),
    latencyMs: Math.round(usage.latencyMs),
    firstTokenMs: usage.firstTokenMs === null ? null : Math.round(usage.firstTokenMs),
  });
}
