// Bench options: CLI flags (`--name=value`, `--quick`) over BENCH_* environment variables over defaults.

export const scenarioNames = [
  'floor',
  'latency',
  'tool-hop',
  'first-token',
  'throughput',
  'sse',
  'scale-out',
  'file-search',
  'sandbox',
  'file-ingest',
] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface BenchOptions {
  quick: boolean;
  scenarios: ScenarioName[];
  /** Postgres server the bench creates its databases on (the database part of the URL is ignored). */
  databaseServerUrl: string;
  redisUrl: string;
  floorJobs: number;
  floorRoundTrips: number;
  latencyRuns: number;
  toolRuns: number;
  /** print(1) calls timed in a warm session, and as many in new ones. */
  sandboxCalls: number;
  firstTokenRuns: number;
  firstTokenDelayMs: number;
  clients: number;
  throughputSeconds: number;
  /** Run-worker process counts to measure throughput with; the first is the headline figure. */
  workers: number[];
  profile: boolean;
  sseStreams: number;
  sseRate: number;
  sseSeconds: number;
  /** Heap snapshots of the SSE API before and after its streams open (large files, for diagnosis). */
  sseHeapSnapshots: boolean;
  /** Searches timed at each store size of the file-search scenario. */
  fileSearchQueries: number;
  /** Files of each format the file-ingest scenario ingests. */
  ingestFiles: number;
  /** Replace the results block of docs/performance.md with this run's report. */
  updateDoc: boolean;
  /** Where results go; a date-named JSON file is written here. */
  resultsDir: string;
}

const help = `npm run bench [-- options]

  --quick                  a short run (about 40 s): fewer samples, 1,000 SSE streams, 1 worker, no profile
  --only=a,b               scenarios among ${scenarioNames.join(', ')} (default: all)
  --clients=N              concurrent clients in the throughput scenario (BENCH_CLIENTS, 50)
  --throughput-seconds=S   measured window per throughput run (BENCH_THROUGHPUT_SECONDS, 15)
  --workers=1,2,4          run-worker process counts for the scaling table (BENCH_WORKERS)
  --latency-runs=N         sequential streamed runs (BENCH_LATENCY_RUNS, 200)
  --tool-runs=N            runs with and without a tool hop (BENCH_TOOL_RUNS, 150)
  --sandbox-calls=N        print(1) calls in a warm and in new code_interpreter sessions (BENCH_SANDBOX_CALLS, 50)
  --first-token-runs=N     runs against the local OpenAI-compatible server (BENCH_FIRST_TOKEN_RUNS, 100)
  --first-token-delay-ms=N its fixed first-token delay (BENCH_FIRST_TOKEN_DELAY_MS, 20)
  --sse-streams=N          concurrent SSE streams on one API process, up to 10000 (BENCH_SSE_STREAMS, 10000)
  --sse-rate=N             events per second published while they are open (BENCH_SSE_RATE, 1000)
  --sse-seconds=S          how long events are published (BENCH_SSE_SECONDS, 10)
  --sse-heap-snapshots     heap snapshots of that API before/after, compared by bench/heap.ts
  --file-search-queries=N  searches timed at 10k and at 100k chunks (BENCH_FILE_SEARCH_QUERIES, 200)
  --ingest-files=N         files of each format the file-ingest scenario ingests (BENCH_INGEST_FILES, 10)
  --update-doc             put this run's report into docs/performance.md (between its bench:latest markers)
  --floor-jobs=N           no-op jobs for the BullMQ throughput floor (BENCH_FLOOR_JOBS, 20000)
  --profile / --no-profile CPU-profile the API and run worker during a throughput run (BENCH_PROFILE)

  DATABASE_URL and REDIS_URL name the local servers (defaults postgres://postgres@127.0.0.1:5432, redis://127.0.0.1:6379).
`;

function flags(argv: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match?.[1]) throw new Error(`Unknown argument ${arg}\n\n${help}`);
    found.set(match[1], match[2] ?? 'true');
  }
  return found;
}

function envName(flag: string): string {
  return `BENCH_${flag.replaceAll('-', '_').toUpperCase()}`;
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  const given = flags(argv);
  if (given.has('help')) return 'help';
  const raw = (flag: string): string | undefined => given.get(flag) ?? env[envName(flag)];
  const quick = raw('quick') === 'true' || raw('quick') === '1';
  const int = (flag: string, full: number, short: number, max = Number.MAX_SAFE_INTEGER): number => {
    const value = raw(flag);
    const parsed = value === undefined ? (quick ? short : full) : Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0 || parsed > max) {
      throw new Error(`--${flag} must be an integer from 1 to ${max}, got ${value}`);
    }
    return parsed;
  };
  const list = (flag: string, fallback: string): string[] =>
    (raw(flag) ?? fallback)
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  const scenarios = list('only', scenarioNames.join(','));
  for (const name of scenarios) {
    if (!(scenarioNames as readonly string[]).includes(name)) throw new Error(`Unknown scenario ${name}`);
  }
  const workers = list('workers', quick ? '1' : '1,2,4').map(Number);
  if (workers.some((count) => !Number.isInteger(count) || count < 1 || count > 8)) {
    throw new Error('--workers takes counts from 1 to 8, e.g. 1,2,4');
  }
  const profileFlag = given.has('no-profile') ? 'false' : raw('profile');
  return {
    quick,
    scenarios: scenarios as ScenarioName[],
    databaseServerUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    floorJobs: int('floor-jobs', 20_000, 5_000, 200_000),
    floorRoundTrips: int('floor-round-trips', 500, 200, 10_000),
    latencyRuns: int('latency-runs', 200, 60, 10_000),
    toolRuns: int('tool-runs', 150, 40, 10_000),
    sandboxCalls: int('sandbox-calls', 50, 15, 1_000),
    firstTokenRuns: int('first-token-runs', 100, 30, 10_000),
    firstTokenDelayMs: int('first-token-delay-ms', 20, 20, 10_000),
    clients: int('clients', 50, 50, 1_000),
    throughputSeconds: int('throughput-seconds', 15, 5, 600),
    workers,
    profile: profileFlag === undefined ? !quick : profileFlag === 'true' || profileFlag === '1',
    sseStreams: int('sse-streams', 10_000, 1_000, 10_000),
    sseRate: int('sse-rate', 1_000, 1_000, 20_000),
    sseSeconds: int('sse-seconds', 10, 5, 120),
    updateDoc: raw('update-doc') === 'true' || raw('update-doc') === '1',
    sseHeapSnapshots: raw('sse-heap-snapshots') === 'true' || raw('sse-heap-snapshots') === '1',
    fileSearchQueries: int('file-search-queries', 200, 50, 10_000),
    ingestFiles: int('ingest-files', 10, 3, 1_000),
    resultsDir: new URL('./results/', import.meta.url).pathname,
  };
}

export const usage = help;
