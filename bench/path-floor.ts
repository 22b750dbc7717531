// The floor of a streamed run's path on this machine: bench/child/path-floor.ts makes the same hops as Threadwork (an
// HTTP POST answered with SSE, a durable insert, the first events and a BullMQ job in one round trip, a BullMQ worker,
// a durable claim and ending, the events on their way to the client) with nothing else, timed like scenario 2.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { FromPathFloor, PathFloorRole } from './child/path-floor.js';
import { ApiClient } from './http-client.js';
import { exited, nextMessage, spawnNode } from './processes.js';
import { type LatencySummary, roundSummary, summarise } from './stats.js';
import { timeStreamedRun } from './streamed-run.js';

export interface PathFloorOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  runs: number;
  logFile: string;
  timeoutMs: number;
}

const entry = fileURLToPath(new URL('./child/path-floor.ts', import.meta.url));
const WARM_UP = 30;

async function onDatabase(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function spawnRole(
  role: PathFloorRole,
  options: PathFloorOptions,
): Promise<[ChildProcess, string | null]> {
  const child = spawnNode(
    ['--import', 'tsx', entry, role],
    {
      PATH_FLOOR_DATABASE_URL: options.databaseUrl,
      PATH_FLOOR_REDIS_URL: options.redisUrl,
      PATH_FLOOR_PREFIX: options.prefix,
    },
    options.logFile,
  );
  const ready = await nextMessage<FromPathFloor, 'ready'>(child, ['ready'], 60_000).catch(
    (error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    },
  );
  return [child, ready.url];
}

/** POST → `thread.run.completed` on the bare path, one run at a time, after a warm-up. */
export async function measurePathFloor(options: PathFloorOptions): Promise<LatencySummary> {
  await onDatabase(
    options.databaseUrl,
    `create table if not exists bench_path_runs (id text collate "C" primary key, status text not null, body jsonb not null)`,
  );
  const children: ChildProcess[] = [];
  try {
    const [api, url] = await spawnRole('api', options);
    children.push(api);
    const [worker] = await spawnRole('worker', options);
    children.push(worker);
    const client = new ApiClient(`${url}/v1`, 'path-floor');
    const deadline = performance.now() + options.timeoutMs;
    const samples: number[] = [];
    for (let index = 0; index < options.runs + WARM_UP && performance.now() < deadline; index += 1) {
      const run = await timeStreamedRun(client, '/threads/path/runs', {
        message: 'Hello, how fast is this?',
      });
      if (index >= WARM_UP) samples.push(run.finishedMs);
    }
    return roundSummary(summarise(samples));
  } finally {
    for (const child of children) {
      child.disconnect();
      if (!(await exited(child, 5_000))) child.kill('SIGKILL');
    }
    await onDatabase(options.databaseUrl, 'drop table if exists bench_path_runs').catch(() => undefined);
  }
}
