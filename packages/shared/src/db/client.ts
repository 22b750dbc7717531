// The Postgres pool and the drizzle client over it.
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { keepStatementNames } from './prepared.js';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export interface DbOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
  /** Told when an idle connection dies (a Postgres restart, a terminated backend); the pool replaces it. */
  onIdleError?: (error: Error) => void;
  /** Whether prepared statements are named (`keepStatementNames`); true unless a pooler forbids it. */
  namedStatements?: boolean;
}

export function createDb({
  url,
  poolSize = 10,
  applicationName = 'threadwork',
  onIdleError,
  namedStatements = true,
}: DbOptions): Db {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: applicationName });
  // Without a listener an idle connection's error would be an uncaught exception that ends the process.
  pool.on('error', (error) => onIdleError?.(error));
  const db = drizzle(pool, { schema });
  keepStatementNames(db, namedStatements);
  return db;
}

export async function closeDb(db: Db): Promise<void> {
  await db.$client.end();
}
