// The Postgres pool and the drizzle client over it.
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export interface DbOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
}

export function createDb({ url, poolSize = 10, applicationName = 'threadwork' }: DbOptions): Db {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: applicationName });
  return drizzle(pool, { schema });
}

export async function closeDb(db: Db): Promise<void> {
  await db.$client.end();
}
