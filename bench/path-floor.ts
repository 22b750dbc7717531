// The floor of a streamed run's path on this machine: bench/child/path-floor.ts makes the same hops as Threadwork (an
// HTTP POST answered with SSE, a durable insert, the first events and a BullMQ job in one round trip, a BullMQ worker,
// a durable claim and ending, the events on their way to the client) with nothing else, timed like scenario 2, and
// counted in runs per second as scenario 1 counts them.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type OpenAITestServer, textReply } from '../services/run-worker/test/support/openai-server.js';
import type { FromPathFloor, PathFloorRole } from './child/path-floor.js';
import { CompletionWatcher } from './completions.js';
import { onDatabase } from './environment.js';
import { ApiClient } from './http-client.js';
import { exited, nextMessage, spawnNode } from './processes.js';
import { measureThroughput } from './scenarios/throughput.js';
import { type LatencySummary, roundSummary, summarise } from './stats.js';
import { timeStreamedRun } from './streamed-run.js';

export interface PathFloorOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  runs: number;
  logFile: string;
  timeoutMs: number;
  /** Also time the first token over this model server, as scenario 5 does (its scripted first-token delay). */
  modelServer?: { server: OpenAITestServer; firstTokenDelayMs: number; runs: number };
  /** Also count runs per second as scenario 1 does, with this many clients in parallel. */
  throughput?: { clients: number; seconds: number; warmUpSeconds: number };
}

export interface PathFloorResult {
  /** POST → thread.run.completed, the answer a constant. */
  roundTrip: LatencySummary;
  /** POST → first text delta, less the model server's own time (request in → first token out). */
  firstTokenAdded: LatencySummary | null;
  /** Runs completed per second inside the window, with the clients of `options.throughput`. */
  runsPerSecond: number | null;
}

const entry = fileURLToPath(new URL('./child/path-floor.ts', import.meta.url));
const WARM_UP = 30;

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

async function timeRoundTrips(client: ApiClient, runs: number, deadline: number): Promise<LatencySummary> {
  const samples: number[] = [];
  for (let index = 0; index < runs + WARM_UP && performance.now() < deadline; index += 1) {
    const run = await timeStreamedRun(client, '/threads/path/runs', { message: 'Hello, how fast is this?' });
    if (index >= WARM_UP) samples.push(run.finishedMs);
  }
  return roundSummary(summarise(samples));
}

async function timeFirstTokens(
  client: ApiClient,
  { server, firstTokenDelayMs, runs }: NonNullable<PathFloorOptions['modelServer']>,
  deadline: number,
): Promise<LatencySummary> {
  const samples: number[] = [];
  for (let index = 0; index < runs + WARM_UP && performance.now() < deadline; index += 1) {
    server.script(
      textReply('Hello from a provider with a fixed first-token latency.', { firstTokenDelayMs }),
    );
    const request = server.waitForRequests(server.requests.length + 1).then((all) => all[all.length - 1]);
    let firstDeltaAt = Number.NaN;
    const started = performance.now();
    await timeStreamedRun(client, '/threads/path/runs', { provider: server.url }, (at) => {
      firstDeltaAt = at;
    });
    const { receivedAt, firstTokenAt } = (await request) ?? { receivedAt: Number.NaN, firstTokenAt: null };
    if (firstTokenAt === null) throw new Error('the model server never sent its first token');
    if (index >= WARM_UP) samples.push(firstDeltaAt - started - (firstTokenAt - receivedAt));
  }
  return roundSummary(summarise(samples));
}

/** Scenario 1's own measurement on the bare API: runs not streamed, their endings seen on the event channels. */
async function countRunsPerSecond(
  client: ApiClient,
  options: PathFloorOptions,
  { clients, seconds, warmUpSeconds }: NonNullable<PathFloorOptions['throughput']>,
): Promise<number> {
  const watcher = await CompletionWatcher.start(options.redisUrl, options.prefix);
  try {
    const result = await measureThroughput(client, watcher, 'path', {
      clients,
      seconds,
      warmUpSeconds,
      maxRuns: 200_000,
      message: 'Hello, how fast is this?',
      extraBody: { stream: false },
    });
    if (result.failed > 0) throw new Error(`bare-path runs failed: ${result.firstError}`);
    return result.runsPerSecond;
  } finally {
    watcher.close();
  }
}

/** POST → `thread.run.completed` on the bare path (and the first token added), one run at a time, after a warm-up. */
export async function measurePathFloor(options: PathFloorOptions): Promise<PathFloorResult> {
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
    const roundTrip = await timeRoundTrips(client, options.runs, deadline);
    const firstTokenAdded = options.modelServer
      ? await timeFirstTokens(client, options.modelServer, deadline)
      : null;
    const runsPerSecond = options.throughput
      ? await countRunsPerSecond(client, options, options.throughput)
      : null;
    return { roundTrip, firstTokenAdded, runsPerSecond };
  } finally {
    for (const child of children) {
      child.disconnect();
      if (!(await exited(child, 5_000))) child.kill('SIGKILL');
    }
    await onDatabase(options.databaseUrl, 'drop table if exists bench_path_runs').catch(() => undefined);
  }
}
