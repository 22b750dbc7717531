// Scale-out: the throughput scenario on two APIs and two run workers over a 3-master Redis Cluster and pgbouncer in
// transaction mode, the clients spread over both APIs; reported beside the same scenario on one API and one run
// worker over one Redis and a direct Postgres (measured just before, on the same databases).
import { join } from 'node:path';
import { startOwnPgbouncer } from '../../test/support/pgbouncer.js';
import { startOwnRedisCluster } from '../../test/support/redis-cluster.js';
import { CompletionWatcher } from '../completions.js';
import { commandCpuMs, cpuByGroup, processCpuMs } from '../cpu.js';
import { ApiClient } from '../http-client.js';
import { type ServiceProcess, spawnService } from '../processes.js';
import { measureThroughput, type ThroughputOptions, type ThroughputResult } from './throughput.js';

export interface ScaleOutTopology {
  apis: number;
  runWorkers: number;
  redis: string;
  postgres: string;
}

export interface ScaleOutResult {
  single: ThroughputResult & { topology: ScaleOutTopology };
  scaledOut: ThroughputResult & { topology: ScaleOutTopology };
}

export const SINGLE_TOPOLOGY: ScaleOutTopology = {
  apis: 1,
  runWorkers: 1,
  redis: 'one server',
  postgres: 'direct',
};

export interface ScaleOutOptions {
  /** The services' environment on one Redis and a direct Postgres (the single-process stack's). */
  serviceEnv: Record<string, string>;
  databaseUrl: string;
  prefix: string;
  userKey: string;
  assistantId: string;
  workDir: string;
  throughput: Omit<ThroughputOptions, 'cpu' | 'counters'>;
}

/** Spreads the clients' requests over several APIs, one after the other. */
function roundRobin(clients: ApiClient[]): Pick<ApiClient, 'json'> {
  let next = 0;
  return {
    json: (...args) => {
      const client = clients[next % clients.length] as ApiClient;
      next += 1;
      return client.json(...args);
    },
  };
}

export async function measureScaleOut(options: ScaleOutOptions): Promise<ScaleOutResult['scaledOut']> {
  const [cluster, pgbouncer] = await Promise.all([
    startOwnRedisCluster(),
    startOwnPgbouncer(options.databaseUrl, { poolSize: 20 }),
  ]);
  const env = {
    ...options.serviceEnv,
    REDIS_CLUSTER_NODES: cluster.nodes.join(','),
    DATABASE_URL: pgbouncer.urlFor(options.databaseUrl),
    MIGRATIONS_DATABASE_URL: options.databaseUrl,
    // Debian's pgbouncer (1.18) does not carry named prepared statements between transactions.
    DATABASE_PREPARED_STATEMENTS: 'false',
  };
  const logFile = join(options.workDir, 'scale-out.log');
  const processes: ServiceProcess[] = [];
  const clients: ApiClient[] = [];
  let watcher: CompletionWatcher | null = null;
  try {
    for (const name of ['api', 'api', 'run-worker', 'run-worker'] as const) {
      processes.push(await spawnService(name, { env, logFile }));
    }
    const apis = processes.filter((process) => process.name === 'api');
    const workers = processes.filter((process) => process.name === 'run-worker');
    clients.push(...apis.map((api) => new ApiClient(`${api.url}/v1`, options.userKey)));
    watcher = await CompletionWatcher.start({ clusterNodes: cluster.nodes }, options.prefix);
    const result = await measureThroughput(roundRobin(clients), watcher, options.assistantId, {
      ...options.throughput,
      cpu: () => ({
        ...cpuByGroup({ api: apis.map((api) => api.pid), 'run-worker': workers.map((worker) => worker.pid) }),
        'bench client': processCpuMs(process.pid),
        postgres: commandCpuMs('postgres'),
        pgbouncer: commandCpuMs('pgbouncer'),
        redis: commandCpuMs('redis-server'),
      }),
    });
    return {
      ...result,
      topology: {
        apis: apis.length,
        runWorkers: workers.length,
        redis: `cluster of ${cluster.nodes.length} masters`,
        postgres: 'pgbouncer 1.18, transaction mode, 20 server connections, unnamed statements',
      },
    };
  } finally {
    watcher?.close();
    for (const client of clients) client.close();
    await Promise.all(processes.map((service) => service.stop()));
    await Promise.all([cluster.destroy(), pgbouncer.destroy()]);
  }
}
