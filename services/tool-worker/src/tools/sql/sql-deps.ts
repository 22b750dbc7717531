// What the SQL tools need (the owner pool, the project's space, limits) and the bounded transaction DDL runs in.
import type pg from 'pg';

export interface SqlLimits {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  maxRows: number;
  maxResultBytes: number;
}

/** Where one project's SQL tools act (docs/tools.md, "Who sees what"). */
export interface SqlSpace {
  /** The schema tables are created in and looked up in first: the project's own, `public` for the default project. */
  schema: string;
  /**
   * Whether the tools see `schema` only (every project but the default one). The default project sees every schema
   * except the projects' ones.
   */
  isIsolated: boolean;
  /** The read-only login run_sql connects with. */
  readerUrl: string;
  /** The role DDL runs as (`SET LOCAL ROLE`); null runs it as the tools database connection itself. */
  ownerRole: string | null;
}

export interface SqlToolDeps {
  /** The tools database connection (TOOLS_DATABASE_URL, or the project's own): catalog reads, create_table, drop_table. */
  pool: pg.Pool;
  space: SqlSpace;
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
    const { ownerRole, schema } = deps.space;
    if (ownerRole) {
      // Postgres itself then refuses to create in or drop from any schema but the project's.
      await client.query(`set local role ${client.escapeIdentifier(ownerRole)}`);
      await client.query("select set_config('search_path', $1, true)", [client.escapeIdentifier(schema)]);
    }
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
