// Scenario 4, SSE fan-out: N concurrent streams on ONE API process (its own process, so its memory is its own),
// opened from a second process; memory per stream, then delivery latency of timestamped events.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MemorySample } from '../child/messages.js';
import { exited, nextMessage, type ServiceProcess, spawnNode, spawnService } from '../processes.js';
import type { FromSseClients, ToSseClients } from '../sse-protocol.js';
import { type LatencySummary, round } from '../stats.js';

export interface SseFanOutOptions {
  streams: number;
  rate: number;
  seconds: number;
  /** The services' environment; QUEUE_PREFIX is replaced so that no run worker serves these runs. */
  serviceEnv: Record<string, string>;
  prefix: string;
  apiKey: string;
  assistantId: string;
  workDir: string;
  /** Also write heap snapshots of the API before and after the streams open, into this folder. */
  heapSnapshotDir?: string;
}

export interface SseFanOutResult {
  requested: number;
  open: number;
  failed: number;
  firstError: string | null;
  openSeconds: number;
  before: MemorySample;
  after: MemorySample;
  /** Heap snapshots were taken: writing one grows RSS, so the RSS figure is not meaningful then. */
  heapSnapshots: boolean;
  /** (RSS after − RSS before) / open streams, in KiB. */
  rssPerStreamKiB: number;
  heapPerStreamKiB: number;
  eventsPerSecond: number;
  sent: number;
  received: number;
  delivery: LatencySummary;
}

const clientsEntry = fileURLToPath(new URL('../sse-clients.ts', import.meta.url));
const WARM_UP_STREAMS = 200;
const OPEN_CONCURRENCY = 100;

function ask<T extends FromSseClients['type']>(
  child: ChildProcess,
  message: ToSseClients,
  reply: T,
  timeoutMs: number,
): Promise<Extract<FromSseClients, { type: T }>> {
  const answer = nextMessage<FromSseClients, T>(child, [reply], timeoutMs);
  child.send(message);
  return answer;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startClients(options: SseFanOutOptions, api: ServiceProcess): Promise<ChildProcess> {
  const env = {
    BENCH_API_URL: api.url ?? '',
    BENCH_API_KEY: options.apiKey,
    BENCH_ASSISTANT_ID: options.assistantId,
    BENCH_QUEUE_PREFIX: options.prefix,
    REDIS_URL: options.serviceEnv.REDIS_URL ?? '',
  };
  const child = spawnNode(['--import', 'tsx', clientsEntry], env, join(options.workDir, 'sse-clients.log'));
  await nextMessage<FromSseClients, 'ready'>(child, ['ready'], 60_000);
  return child;
}

export async function measureSseFanOut(options: SseFanOutOptions): Promise<SseFanOutResult> {
  const api = await spawnService('api', {
    env: { ...options.serviceEnv, QUEUE_PREFIX: options.prefix },
    logFile: join(options.workDir, 'sse-api.log'),
  });
  let clients: ChildProcess | null = null;
  try {
    clients = await startClients(options, api);
    // Warm up the code paths, then forget those streams: the baseline is a process that has served streams.
    await ask(
      clients,
      { type: 'open', count: WARM_UP_STREAMS, concurrency: 20, timeoutMs: 60_000 },
      'opened',
      90_000,
    );
    await ask(clients, { type: 'close-all' }, 'closed', 30_000);
    await settle(1_000);
    const before = await api.memory();
    if (options.heapSnapshotDir)
      await api.heapSnapshot(join(options.heapSnapshotDir, 'sse-api-before.heapsnapshot'));
    const opened = await ask(
      clients,
      { type: 'open', count: options.streams, concurrency: OPEN_CONCURRENCY, timeoutMs: 300_000 },
      'opened',
      330_000,
    );
    await settle(2_000);
    const after = await api.memory();
    if (options.heapSnapshotDir)
      await api.heapSnapshot(join(options.heapSnapshotDir, 'sse-api-after.heapsnapshot'));
    const measured = await ask(
      clients,
      { type: 'measure', rate: options.rate, seconds: options.seconds },
      'measured',
      (options.seconds + 30) * 1000,
    );
    const perStream = (bytes: number) =>
      opened.open > 0 ? round(bytes / opened.open / 1024, 1) : Number.NaN;
    return {
      requested: options.streams,
      open: opened.open,
      failed: opened.failed,
      firstError: opened.firstError,
      openSeconds: round(opened.seconds, 1),
      before,
      after,
      heapSnapshots: options.heapSnapshotDir !== undefined,
      rssPerStreamKiB: perStream(after.rss - before.rss),
      heapPerStreamKiB: perStream(after.heapUsed - before.heapUsed),
      eventsPerSecond: options.rate,
      sent: measured.sent,
      received: measured.received,
      delivery: measured.delivery,
    };
  } finally {
    if (clients) {
      clients.send({ type: 'exit' } satisfies ToSseClients);
      if (!(await exited(clients, 10_000))) clients.kill('SIGKILL');
    }
    await api.stop();
  }
}
