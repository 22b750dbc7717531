// `npm run bench`: measures the floor, starts Threadwork on its own databases and Redis prefix, runs each scenario,
// writes bench/results/<date>.json and prints the markdown report. Loopback only; every loop is bounded.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type OpenAITestServer,
  startOpenAIServer,
} from '../services/run-worker/test/support/openai-server.js';
import { createAssistant, createUserKey } from './api-setup.js';
import { CompletionWatcher } from './completions.js';
import { startCounters } from './counters.js';
import { commandCpuMs, cpuByGroup, processCpuMs } from './cpu.js';
import { analyzeDatabase, type BenchEnvironment, createEnvironment } from './environment.js';
import { measureFloor } from './floor.js';
import { ApiClient } from './http-client.js';
import { type BenchOptions, parseOptions, type ScenarioName, usage } from './options.js';
import { measurePathFloor } from './path-floor.js';
import { monotonicMicros, summariseMainThread } from './profile.js';
import { printReport, progress, updateDocument } from './report.js';
import type { BenchResults } from './results.js';
import { measureFileIngest } from './scenarios/file-ingest.js';
import { measureFileSearch } from './scenarios/file-search.js';
import { measureFirstToken } from './scenarios/first-token.js';
import { measureLatency } from './scenarios/latency.js';
import { measureSandbox } from './scenarios/sandbox.js';
import { measureScaleOut, SINGLE_TOPOLOGY } from './scenarios/scale-out.js';
import { measureSseFanOut } from './scenarios/sse-fanout.js';
import { measureThroughput, type ThroughputResult } from './scenarios/throughput.js';
import { FORCE_LIST_TABLES, measureToolHop } from './scenarios/tool-hop.js';
import { type Stack, type StackOptions, serviceEnv, startStack } from './stack.js';
import { round } from './stats.js';
import { checkTargets } from './targets.js';

interface Session {
  options: BenchOptions;
  results: BenchResults;
  environment: BenchEnvironment;
  openai: OpenAITestServer;
  workDir: string;
}

interface Setup {
  stack: Stack;
  v1: ApiClient;
  userKey: string;
  assistantId: string;
}

const minutes = (count: number) => performance.now() + count * 60_000;
const warmUpSeconds = (session: Session) => (session.options.quick ? 1 : 3);
const PROFILED_SECONDS = 10;
const documentFile = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
/** Chunks in the vector store when the file-search scenario times its searches. */
const FILE_SEARCH_SIZES = [10_000, 100_000];
/** (run workers, tool workers) for the tool-run throughput table. */
const TOOL_SCALING: Array<[number, number]> = [
  [1, 1],
  [1, 2],
  [2, 2],
];

function localDate(): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function newResults(options: BenchOptions): BenchResults {
  const { resultsDir: _dir, databaseServerUrl: _db, redisUrl: _redis, ...shown } = options;
  return {
    date: localDate(),
    startedAt: new Date().toISOString(),
    durationSeconds: 0,
    quick: options.quick,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.versions.node,
      loadAverageAtStart: round(loadavg()[0] ?? 0),
    },
    options: shown,
    targets: [],
    errors: [],
  };
}

async function attempt(session: Session, scenario: string, action: () => Promise<void>): Promise<void> {
  const started = performance.now();
  progress(`${scenario}: starting`);
  try {
    await action();
    progress(`${scenario}: done in ${round((performance.now() - started) / 1000, 1)} s`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    session.results.errors.push({ scenario, message: message.split('\n')[0] ?? message });
    progress(`${scenario}: FAILED: ${message}`);
  }
}

function stackOptions(session: Session, overrides: Partial<StackOptions> = {}): StackOptions {
  return {
    environment: session.environment,
    workDir: session.workDir,
    openaiBaseUrl: session.openai.url,
    runWorkers: 1,
    withToolWorker: false,
    ...overrides,
  };
}

async function setUp(session: Session, withToolWorker: boolean): Promise<Setup> {
  const stack = await startStack(stackOptions(session, { withToolWorker }));
  const userKey = await createUserKey(stack.admin, 'bench');
  const v1 = new ApiClient(`${stack.apiUrl}/v1`, userKey);
  const assistantId = await createAssistant(v1, { model: 'offline', name: 'bench offline' });
  return { stack, v1, userKey, assistantId };
}

const has = (session: Session, name: ScenarioName) => session.options.scenarios.includes(name);

interface ThroughputWork {
  assistantId: string;
  message: string;
  extraBody?: Record<string, unknown>;
}

async function throughputRun(
  session: Session,
  setup: Setup,
  seconds: number,
  work: ThroughputWork = { assistantId: setup.assistantId, message: 'Hello, how fast is this?' },
): Promise<ThroughputResult> {
  const { environment } = session;
  const watcher = await CompletionWatcher.start(environment.redisUrl, environment.prefix);
  const counters = await startCounters(environment.databaseUrl, environment.redisUrl);
  try {
    return await measureThroughput(setup.v1, watcher, work.assistantId, {
      counters,
      clients: session.options.clients,
      seconds,
      warmUpSeconds: warmUpSeconds(session),
      maxRuns: 200_000,
      message: work.message,
      extraBody: work.extraBody,
      beforeWindow: () => analyzeDatabase(environment.databaseUrl),
      cpu: () => ({
        ...cpuByGroup({
          api: [setup.stack.api.pid],
          'run-worker': setup.stack.runWorkers.map((worker) => worker.pid),
          'tool-worker': setup.stack.toolWorkers.map((worker) => worker.pid),
        }),
        'bench client': processCpuMs(process.pid),
        postgres: commandCpuMs('postgres'),
        redis: commandCpuMs('redis-server'),
      }),
    });
  } finally {
    watcher.close();
    await counters.close();
  }
}

/** Runs with one list_tables hop each, as run and tool workers are added. */
async function toolThroughput(session: Session, setup: Setup): Promise<void> {
  const { stack } = setup;
  if (stack.toolWorkerMissing) throw new Error(`blocked: no tool worker: ${stack.toolWorkerMissing}`);
  const assistantId = await createAssistant(setup.v1, {
    model: 'offline',
    name: 'bench list_tables throughput',
    tools: [{ type: 'list_tables' }],
  });
  const work = {
    assistantId,
    message: 'Please list the tables.',
    extraBody: { tool_choice: FORCE_LIST_TABLES },
  };
  session.results.toolScaling = [];
  for (const [runWorkers, toolWorkers] of TOOL_SCALING) {
    await stack.scaleRunWorkers(runWorkers);
    await stack.scaleToolWorkers(toolWorkers);
    const point = await throughputRun(session, setup, session.options.throughputSeconds, work);
    session.results.toolScaling.push({ runWorkers, toolWorkers, ...point });
    progress(`  ${runWorkers} run + ${toolWorkers} tool workers: ${point.runsPerSecond} tool runs/s`);
  }
  await stack.scaleToolWorkers(1);
}

async function runStackScenarios(session: Session, setup: Setup): Promise<void> {
  const { options, results } = session;
  if (has(session, 'latency')) {
    await attempt(session, 'latency', async () => {
      results.latency = await measureLatency(setup.v1, setup.assistantId, options.latencyRuns, minutes(3));
    });
  }
  if (has(session, 'tool-hop')) {
    await attempt(session, 'tool-hop', async () => {
      results.toolHop = await measureToolHop(
        setup.v1,
        options.toolRuns,
        minutes(3),
        setup.stack.toolWorkerMissing,
      );
    });
  }
  if (has(session, 'first-token')) {
    await attempt(session, 'first-token', async () => {
      results.firstToken = await measureFirstToken(
        setup.v1,
        session.openai,
        options.firstTokenRuns,
        options.firstTokenDelayMs,
        minutes(2),
      );
    });
  }
  if (!has(session, 'throughput')) return;
  if (has(session, 'tool-hop') && !options.quick) {
    await attempt(session, 'tool-run throughput', () => toolThroughput(session, setup));
  }
  results.scaling = [];
  for (const runWorkers of options.workers) {
    await attempt(session, `throughput with ${runWorkers} run worker(s)`, async () => {
      await setup.stack.scaleRunWorkers(runWorkers);
      const point = await throughputRun(session, setup, options.throughputSeconds);
      results.scaling?.push({ runWorkers, ...point });
      progress(`  ${point.runsPerSecond} runs/s (${point.completed} completed, ${point.failed} failed)`);
    });
  }
}

/** bench/results/profiles/<start time>/: CPU profiles and heap snapshots (git-ignored). */
function artifactsDir(session: Session): string {
  const dir = join(session.options.resultsDir, 'profiles', session.results.startedAt.replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A throughput run with the API and one run worker under --cpu-prof, summarised from the profiles they write. */
async function profileThroughput(session: Session, setup: Setup): Promise<void> {
  const profileDir = join(
    session.options.resultsDir,
    'profiles',
    session.results.startedAt.replace(/[:.]/g, '-'),
  );
  mkdirSync(profileDir, { recursive: true });
  const stack = await startStack(stackOptions(session, { cpuProfileDir: profileDir }));
  try {
    const from = monotonicMicros() + warmUpSeconds(session) * 1_000_000;
    const v1 = setup.v1.at(`${stack.apiUrl}/v1`);
    const throughput = await throughputRun(session, { ...setup, stack, v1 }, PROFILED_SECONDS);
    const window = { from, to: monotonicMicros() };
    await stack.stop();
    const folders = readdirSync(profileDir).map((folder) => join(profileDir, folder));
    session.results.profiled = {
      throughput,
      profiles: folders.flatMap((folder) => summariseMainThread(folder, { window }) ?? []),
    };
    progress(`  profiles in ${profileDir}`);
  } finally {
    await stack.stop();
  }
}

/** The throughput scenario again on two APIs and two run workers over a Redis Cluster and pgbouncer. */
async function scaleOut(session: Session, setup: Setup, single: ThroughputResult): Promise<void> {
  const { options, environment, results } = session;
  await attempt(session, 'scale-out: two APIs, two run workers, Redis Cluster, pgbouncer', async () => {
    const scaledOut = await measureScaleOut({
      serviceEnv: serviceEnv(stackOptions(session)),
      databaseUrl: environment.databaseUrl,
      prefix: environment.prefix,
      userKey: setup.userKey,
      assistantId: setup.assistantId,
      workDir: session.workDir,
      throughput: {
        clients: options.clients,
        seconds: options.throughputSeconds,
        warmUpSeconds: warmUpSeconds(session),
        maxRuns: 200_000,
        message: 'Hello, how fast is this?',
        beforeWindow: () => analyzeDatabase(environment.databaseUrl),
      },
    });
    results.scaleOut = { single: { ...single, topology: SINGLE_TOPOLOGY }, scaledOut };
  });
}

async function runAll(session: Session): Promise<void> {
  const { options, environment, results } = session;
  if (has(session, 'floor')) {
    await attempt(session, 'floor', async () => {
      results.floor = await measureFloor({
        redisUrl: environment.redisUrl,
        databaseUrl: environment.databaseUrl,
        prefix: `{${environment.subPrefix('floor')}}`,
        jobs: options.floorJobs,
        roundTrips: options.floorRoundTrips,
        timeoutMs: 120_000,
      });
      const path = await measurePathFloor({
        redisUrl: environment.redisUrl,
        databaseUrl: environment.databaseUrl,
        prefix: `{${environment.subPrefix('path')}}`,
        runs: options.floorRoundTrips,
        logFile: join(session.workDir, 'path-floor.log'),
        timeoutMs: 120_000,
        modelServer: {
          server: session.openai,
          firstTokenDelayMs: options.firstTokenDelayMs,
          runs: options.firstTokenRuns,
        },
        throughput: {
          clients: options.clients,
          seconds: options.throughputSeconds,
          warmUpSeconds: warmUpSeconds(session),
        },
      });
      results.floor.pathRoundTrip = path.roundTrip;
      results.floor.pathFirstTokenAdded = path.firstTokenAdded ?? undefined;
      results.floor.pathRunsPerSecond = path.runsPerSecond ?? undefined;
    });
  }
  if (has(session, 'file-search')) {
    await attempt(session, 'file-search', async () => {
      results.fileSearch = await measureFileSearch(environment.databaseUrl, {
        sizes: FILE_SEARCH_SIZES,
        queries: options.fileSearchQueries,
      });
    });
  }
  if (has(session, 'file-ingest')) {
    await attempt(session, 'file-ingest', async () => {
      results.fileIngest = await measureFileIngest(environment.databaseUrl, { files: options.ingestFiles });
    });
  }
  if (has(session, 'sandbox')) {
    await attempt(session, 'sandbox', async () => {
      results.sandbox = await measureSandbox({
        redisUrl: environment.redisUrl,
        prefix: environment.subPrefix('sandbox'),
        calls: options.sandboxCalls,
        deadline: minutes(2),
      });
    });
  }
  const standalone = ['floor', 'file-search', 'file-ingest', 'sandbox'];
  if (options.scenarios.every((name) => standalone.includes(name))) return;
  const setup = await setUp(session, has(session, 'tool-hop'));
  let single: ThroughputResult | null = null;
  try {
    await runStackScenarios(session, setup);
    if (has(session, 'scale-out')) {
      await attempt(session, 'scale-out: one API, one run worker', async () => {
        single = await throughputRun(session, setup, options.throughputSeconds);
      });
    }
  } finally {
    await setup.stack.stop();
  }
  if (single) await scaleOut(session, setup, single);
  if (options.profile && has(session, 'throughput')) {
    await attempt(session, 'profiled throughput', () => profileThroughput(session, setup));
  }
  if (has(session, 'sse')) {
    await attempt(session, `SSE fan-out with ${options.sseStreams} streams`, async () => {
      results.sse = await measureSseFanOut({
        streams: options.sseStreams,
        rate: options.sseRate,
        seconds: options.sseSeconds,
        serviceEnv: serviceEnv(stackOptions(session)),
        prefix: environment.subPrefix('sse'),
        apiKey: setup.userKey,
        assistantId: setup.assistantId,
        workDir: session.workDir,
        heapSnapshotDir: options.sseHeapSnapshots ? artifactsDir(session) : undefined,
      });
    });
  }
  setup.v1.close();
}

function writeResults(options: BenchOptions, results: BenchResults): string {
  mkdirSync(options.resultsDir, { recursive: true });
  const file = join(options.resultsDir, `${results.date}${options.quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

async function main(): Promise<void> {
  const parsed = parseOptions(process.argv.slice(2), process.env);
  if (parsed === 'help') {
    process.stdout.write(usage);
    return;
  }
  const started = performance.now();
  const results = newResults(parsed);
  const workDir = mkdtempSync(join(tmpdir(), 'threadwork-bench-'));
  progress(`logs in ${workDir}`);
  const environment = await createEnvironment(parsed.databaseServerUrl, parsed.redisUrl);
  progress(
    `databases ${new URL(environment.databaseUrl).pathname.slice(1)} (+ _tools), prefix ${environment.prefix}`,
  );
  const openai = await startOpenAIServer();
  const session: Session = { options: parsed, results, environment, openai, workDir };
  const interrupt = () => {
    progress('interrupted: removing the bench databases and keys');
    void environment.cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await runAll(session);
  } finally {
    await openai.close();
    await environment.cleanUp();
  }
  results.durationSeconds = Math.round((performance.now() - started) / 1000);
  results.targets = checkTargets(results);
  progress(`results in ${writeResults(parsed, results)}`);
  if (parsed.updateDoc) {
    updateDocument(documentFile, results);
    progress(`report written into ${documentFile}`);
  }
  printReport(results);
}

await main();
