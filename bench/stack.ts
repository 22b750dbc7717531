// The system under test: the API, run workers and a tool worker as separate processes on the bench's databases.
import { join } from 'node:path';
import type { BenchEnvironment } from './environment.js';
import { ApiClient } from './http-client.js';
import { type ServiceProcess, ServiceUnavailable, spawnService } from './processes.js';

export const BENCH_ADMIN_KEY = 'sk-tw-bench-admin-key-0123456789abcdef';

export interface StackOptions {
  environment: BenchEnvironment;
  /** Folder for the services' logs (and CPU profiles). */
  workDir: string;
  /** The local OpenAI-compatible server the `openai/…` models go to. */
  openaiBaseUrl: string;
  runWorkers: number;
  withToolWorker: boolean;
  /** Profile the API and the first run worker. */
  cpuProfileDir?: string;
  /** Overrides of the services' environment, e.g. another QUEUE_PREFIX. */
  env?: Record<string, string>;
}

export interface Stack {
  api: ServiceProcess;
  apiUrl: string;
  admin: ApiClient;
  runWorkers: ServiceProcess[];
  toolWorkers: ServiceProcess[];
  /** Why there is no tool worker, when there is none. */
  toolWorkerMissing: string | null;
  /** Starts or stops run-worker processes until there are `count`. */
  scaleRunWorkers(count: number): Promise<void>;
  /** Likewise for tool workers (a no-op when the tool worker cannot start). */
  scaleToolWorkers(count: number): Promise<void>;
  stop(): Promise<void>;
}

/** The services' environment: defaults everywhere except what a benchmark must not be limited by. */
export function serviceEnv(options: StackOptions): Record<string, string> {
  const { environment } = options;
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: environment.databaseUrl,
    TOOLS_DATABASE_URL: environment.toolsDatabaseUrl,
    TOOLS_READONLY_ROLE: environment.readerRole,
    REDIS_URL: environment.redisUrl,
    QUEUE_PREFIX: environment.prefix,
    ADMIN_API_KEY: BENCH_ADMIN_KEY,
    PORT: '0',
    RUN_WORKER_PORT: '0',
    TOOL_WORKER_PORT: '0',
    OFFLINE_TOKEN_DELAY_MS: '0',
    OPENAI_BASE_URL: options.openaiBaseUrl,
    // One bench key sends every request; per-key and per-tool limits would measure the limiter, not the system.
    RATE_LIMIT_PER_MINUTE: '100000000',
    TOOL_RATE_LIMIT_PER_USER: '100000000/60',
    TOOL_RATE_LIMIT_GLOBAL: '100000000/60',
    TOOL_QUEUE_LIMIT_MAX: '100000',
    ...options.env,
  };
}

async function scale(
  processes: ServiceProcess[],
  count: number,
  spawnOne: (index: number) => Promise<ServiceProcess>,
): Promise<void> {
  while (processes.length > count) await processes.pop()?.stop();
  while (processes.length < count) processes.push(await spawnOne(processes.length));
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const env = serviceEnv(options);
  const logFile = join(options.workDir, 'services.log');
  const api = await spawnService('api', { env, logFile, cpuProfileDir: options.cpuProfileDir });
  const runWorkers: ServiceProcess[] = [];
  const toolWorkers: ServiceProcess[] = [];
  let toolWorkerMissing: string | null = options.withToolWorker ? null : 'not started';
  const stop = async () => {
    await Promise.all([api.stop(), ...[...runWorkers, ...toolWorkers].map((worker) => worker.stop())]);
  };
  const scaleRunWorkers = (count: number) =>
    scale(runWorkers, count, (index) =>
      spawnService('run-worker', {
        env,
        logFile,
        cpuProfileDir: index === 0 ? options.cpuProfileDir : undefined,
      }),
    );
  const scaleToolWorkers = async (count: number) => {
    if (toolWorkerMissing) return;
    try {
      await scale(toolWorkers, count, () => spawnService('tool-worker', { env, logFile }));
    } catch (error) {
      // Not finished yet, or mid-edit: the tool scenarios report themselves blocked with this reason.
      const reason = error instanceof ServiceUnavailable ? error.message : String(error).split('\n')[0];
      toolWorkerMissing = reason || 'tool worker did not start';
    }
  };
  try {
    await scaleRunWorkers(options.runWorkers);
    if (options.withToolWorker) await scaleToolWorkers(1);
  } catch (error) {
    await stop();
    throw error;
  }
  const apiUrl = api.url ?? '';
  return {
    api,
    apiUrl,
    admin: new ApiClient(apiUrl, BENCH_ADMIN_KEY),
    runWorkers,
    toolWorkers,
    get toolWorkerMissing() {
      return toolWorkerMissing;
    },
    scaleRunWorkers,
    scaleToolWorkers,
    stop,
  };
}
