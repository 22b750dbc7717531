// What the SQL tools need (the owner pool, the read-only login, limits) and the bounded transaction DDL runs in.
import type pg from 'pg';

export interface SqlLimits {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  maxRows: number;
  maxResultBytes: number;
}

export interface SqlToolDeps {
  /** The TOOLS_DATABASE_URL connection: catalog reads, create_table and drop_table. */
  pool: pg.Pool;
  /** The read-only login run_sql connects with. */
  readerUrl: string;
  protectedSchemas: readonly string[];
  limits: SqlLimits;
}

/** Runs `work` in a transaction with the statement and lock timeouts; commits on success. */
export async function withOwnerTransaction<T>(
  deps: SqlToolDeps,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await deps.pool.connect();
  try {
    await client.query('begin');
    await client.query(
      "select set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)",
      [`${deps.limits.statementTimeoutMs}ms`, `${deps.limits.lockTimeoutMs}ms`],
    );
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
