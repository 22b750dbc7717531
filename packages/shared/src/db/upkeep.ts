// The upkeep Threadwork leaves to Postgres: autovacuum reclaims the row versions that run updates leave behind, and
// analyzes tables as they grow, which is also when Postgres plans again its foreign-key checks. Without it, plans made
// while the tables were small (sequential scans) are kept for good.
import { sql } from 'drizzle-orm';
import type { Logger } from '../logger.js';
import type { Db } from './client.js';

/** The tables every run writes to; they start empty and grow. */
const RUN_TABLES = ['threads', 'messages', 'runs', 'run_steps'];

/** The run tables autovacuum leaves alone: all of them when it is off on the server, or any a storage parameter turns it off for. */
export async function tablesWithoutAutovacuum(db: Db): Promise<string[]> {
  const { rows } = await db.execute<{ table: string }>(sql`
    select c.relname as "table" from pg_class c
    where c.relname in ${RUN_TABLES} and c.relkind = 'r' and pg_table_is_visible(c.oid)
      and (current_setting('autovacuum')::boolean is false
        or exists (select 1 from pg_options_to_table(c.reloptions) o
                   where o.option_name = 'autovacuum_enabled' and o.option_value::boolean is false))
    order by c.relname`);
  return rows.map((row) => row.table);
}

export async function warnWithoutAutovacuum(db: Db, log: Logger): Promise<void> {
  const tables = await tablesWithoutAutovacuum(db);
  if (tables.length === 0) return;
  log.warn(
    { tables },
    'autovacuum is off for these tables: their dead rows are never reclaimed and their query plans stay those made while they were small; turn it on or run `vacuumdb --analyze` on a schedule',
  );
}
