// Data access for usage_logs as the API uses them: a row per model gateway call (runs' rows are the run core's),
// and the sums the usage reports show.
import { type Db, schema } from '@threadwork/shared';
import { and, eq, gte, lt, sql } from 'drizzle-orm';

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

export interface UsageFilter {
  /** Only this project's rows; every project's when absent (admin). */
  ownerId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface UsageGroup {
  day?: string;
  model?: string;
  projectId?: string;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
}

/** usage_logs summed by the asked dimensions (none: one total row), oldest day first. */
export async function sumUsage(
  db: Db,
  filter: UsageFilter,
  by: { day: boolean; model: boolean; project: boolean },
): Promise<UsageGroup[]> {
  const { usageLogs } = schema;
  const day = sql<string>`to_char(${usageLogs.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const where = and(
    filter.ownerId === undefined ? undefined : eq(usageLogs.ownerId, filter.ownerId),
    filter.from === undefined ? undefined : gte(usageLogs.createdAt, filter.from),
    filter.to === undefined ? undefined : lt(usageLogs.createdAt, filter.to),
  );
  const groups = [
    ...(by.day ? [day] : []),
    ...(by.model ? [usageLogs.model] : []),
    ...(by.project ? [usageLogs.ownerId] : []),
  ];
  const rows = await db
    .select({
      day: by.day ? day : sql<null>`null`,
      model: by.model ? usageLogs.model : sql<null>`null`,
      projectId: by.project ? usageLogs.ownerId : sql<null>`null`,
      calls: sql<number>`count(*)::int`,
      promptTokens: sql<number>`coalesce(sum(${usageLogs.promptTokens}), 0)::bigint`,
      completionTokens: sql<number>`coalesce(sum(${usageLogs.completionTokens}), 0)::bigint`,
      totalTokens: sql<number>`coalesce(sum(${usageLogs.totalTokens}), 0)::bigint`,
      costUsd: sql<string>`coalesce(sum(${usageLogs.costUsd}), 0)`,
    })
    .from(usageLogs)
    .where(where)
    .groupBy(...groups)
    .orderBy(...groups);
  return rows.map((row) => ({
    ...(row.day === null ? {} : { day: row.day }),
    ...(row.model === null ? {} : { model: row.model }),
    ...(row.projectId === null ? {} : { projectId: row.projectId }),
    calls: Number(row.calls),
    promptTokens: Number(row.promptTokens),
    completionTokens: Number(row.completionTokens),
    totalTokens: Number(row.totalTokens),
    costUsd: Number(row.costUsd),
  }));
}
