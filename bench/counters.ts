// Work counters read at the edges of a measured window: Postgres transactions and rows of the bench database, and
// Redis commands (server-wide), so that a run's cost can be stated as commits and commands per run.
import { Redis } from 'ioredis';
import pg from 'pg';

export type Counters = Record<string, number>;

export interface CounterSource {
  read(): Promise<Counters>;
  close(): Promise<void>;
}

/** Postgres flushes these statistics about once a second per backend, so they are approximate at the edges. */
const databaseStats = `
  select xact_commit as commits, tup_inserted as "rows inserted", tup_updated as "rows updated",
         tup_returned + tup_fetched as "rows read"
  from pg_stat_database where datname = current_database()`;

function parseCommandStats(info: string): Counters {
  let total = 0;
  const byCommand: Counters = {};
  for (const match of info.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) {
    const calls = Number(match[2]);
    total += calls;
    byCommand[`redis ${match[1]}*`] = calls;
  }
  return { 'redis commands*': total, ...byCommand };
}

export async function startCounters(databaseUrl: string, redisUrl: string): Promise<CounterSource> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'threadwork-bench-counters',
  });
  await client.connect();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  return {
    async read() {
      const [stats, info] = await Promise.all([client.query(databaseStats), redis.info('commandstats')]);
      const row = (stats.rows[0] ?? {}) as Record<string, string>;
      const database = Object.fromEntries(
        Object.entries(row).map(([name, count]) => [`pg ${name}`, Number(count)]),
      );
      return { ...database, ...parseCommandStats(info) };
    },
    async close() {
      redis.disconnect();
      await client.end();
    },
  };
}

/** (end − start) / runs for every counter that moved. */
export function perRun(start: Counters, end: Counters, runs: number): Counters {
  return Object.fromEntries(
    Object.entries(end)
      .filter(([name, value]) => value !== (start[name] ?? 0))
      .map(([name, value]) => [
        name,
        Math.round(((value - (start[name] ?? 0)) / Math.max(1, runs)) * 10) / 10,
      ]),
  );
}
