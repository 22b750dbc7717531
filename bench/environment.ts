// The bench's own world: fresh databases on the local Postgres server and a Redis key prefix, removed at the end.
import { randomBytes } from 'node:crypto';
import { runMigrations } from '@threadwork/shared';
import { prepareToolsDatabase } from '@threadwork/shared/tools-database';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface BenchEnvironment {
  /** `threadwork_bench_<ts>`: Threadwork's own tables, migrated. */
  databaseUrl: string;
  /** `threadwork_bench_<ts>_tools`: the database the SQL tools act on, with the small sample schema. */
  toolsDatabaseUrl: string;
  /** The read-only login run_sql uses, created for this bench so it never touches another user's role. */
  readerRole: string;
  redisUrl: string;
  /** A QUEUE_PREFIX no one else uses; every bench key contains it. */
  prefix: string;
  /** Another prefix under the same stamp (e.g. an API process that no worker serves). */
  subPrefix(name: string): string;
  cleanUp(): Promise<void>;
}

export function databaseUrlOn(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs one statement on the database `url` names, on a connection of its own. */
export async function onDatabase(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function onServer(serverUrl: string, sql: string): Promise<void> {
  return onDatabase(databaseUrlOn(serverUrl, 'postgres'), sql);
}

/** Deletes every key containing `prefix`, a few hundred at a time. */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

function stamp(): string {
  const now = new Date();
  const digits = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${digits}_${randomBytes(2).toString('hex')}`;
}

/**
 * Refreshes the planner's statistics of a bench database, as autovacuum does within about a minute of a table's
 * growth on a running system. Without it, a plan cached by a connection while the tables were nearly empty (a
 * sequential scan) is kept for the whole short window the bench measures.
 */
export function analyzeDatabase(databaseUrl: string): Promise<void> {
  return onDatabase(databaseUrl, 'analyze');
}

export async function createEnvironment(serverUrl: string, redisUrl: string): Promise<BenchEnvironment> {
  const id = stamp();
  const name = `threadwork_bench_${id}`;
  const toolsName = `${name}_tools`;
  const prefix = `twbench-${id.replace('_', '-')}`;
  const databaseUrl = databaseUrlOn(serverUrl, name);
  const toolsDatabaseUrl = databaseUrlOn(serverUrl, toolsName);
  const readerRole = `twbench_reader_${id}`;
  await onServer(serverUrl, `create database ${name}`);
  await onServer(serverUrl, `create database ${toolsName}`);
  let isClean = false;
  const cleanUp = async () => {
    if (isClean) return;
    isClean = true;
    await onServer(serverUrl, `drop database if exists ${name} with (force)`);
    await onServer(serverUrl, `drop database if exists ${toolsName} with (force)`);
    await onServer(serverUrl, `drop role if exists ${readerRole}`);
    await deleteKeys(redisUrl, prefix);
  };
  try {
    await runMigrations(databaseUrl);
    await prepareToolsDatabase(toolsDatabaseUrl, { seed: true, readerRole });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return {
    databaseUrl,
    toolsDatabaseUrl,
    readerRole,
    redisUrl,
    prefix,
    subPrefix: (sub) => `${prefix}-${sub}`,
    cleanUp,
  };
}
