import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { schema, type ToolJobResult } from '@threadwork/shared';
import { waitFor } from '@threadwork/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startToolWorker, type ToolWorker } from '../src/worker.js';
import { createEnvironment, silentLog, type TestEnvironment } from './support/environment.js';
import { createToolQueue, type ToolQueue } from './support/queue.js';
import { insertToolCalls } from './support/rows.js';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const mainModule = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const strayErrors = fileURLToPath(new URL('./support/stray-errors.ts', import.meta.url));

let env: TestEnvironment;
let tools: ToolQueue;
const children: ChildProcess[] = [];
let replacement: ToolWorker | undefined;

const overrides = {
  TOOL_JOB_LOCK_MS: '1000',
  RUN_SQL_STATEMENT_TIMEOUT_MS: '20000',
  TOOL_TIMEOUT_MS: '30000',
};

beforeAll(async () => {
  env = await createEnvironment(inject('databaseServerUrl'), inject('redisUrl'));
  tools = await createToolQueue(env.config(overrides));
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await replacement?.close();
  await tools?.close();
  await env?.close();
});

interface ChildWorker {
  child: ChildProcess;
  /** What the child printed (pino JSON lines), for waits and failure messages. */
  output: string[];
  exited: Promise<number | null>;
}

/** Starts `src/main.ts` in a child process, with modules to preload (`--import`) besides tsx. */
function startChildWorker(preload: string[] = []): ChildWorker {
  const processEnv = {
    ...process.env,
    ...env.variables({ ...overrides, LOG_LEVEL: 'info', PRETTY_LOGS: 'false' }),
  };
  const imports = ['tsx', ...preload].flatMap((module) => ['--import', module]);
  const child = spawn(process.execPath, [...imports, mainModule], {
    cwd: repositoryRoot,
    env: processEnv,
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

async function backendsOf(callId: string): Promise<number[]> {
  const found = await env.toolsPool.query<{ pid: number }>(
    'select pid from pg_stat_activity where application_name = $1 order by backend_start',
    [`threadwork run_sql ${callId}`],
  );
  return found.rows.map((row) => row.pid);
}

/** Adds a run_sql call and starts a child worker; resolves once the child runs the query. */
async function childRunning(query: string) {
  const { runId, stepId, callIds } = await insertToolCalls(env.db, [
    { name: 'run_sql', arguments: { query } },
  ]);
  const callId = callIds[0] ?? '';
  const job = await tools.add({ runId, stepId, callId }, callId);
  const worker = startChildWorker();
  const [backend] = await waitFor(
    async () => {
      const backends = await backendsOf(callId);
      return backends.length === 1 && backends;
    },
    { timeoutMs: 30_000, what: `the child worker to run the query (output: ${worker.output.join('')})` },
  );
  return { ...worker, job, callId, backend };
}

describe('a tool worker stopped by a signal', () => {
  it('finishes the job in hand, then exits 0', async () => {
    const { job, child, exited } = await childRunning('select pg_sleep(1), 1 as done');
    child.kill('SIGTERM');
    const result = (await job.waitUntilFinished(tools.events, 20_000)) as ToolJobResult;
    expect(result.isError).toBe(false);
    expect(JSON.parse(result.output).rows).toEqual([['', 1]]);
    expect(await exited).toBe(0);
  });

  it('exits at once on a second signal', async () => {
    const { child, exited, output } = await childRunning('select pg_sleep(10)');
    const started = Date.now();
    child.kill('SIGTERM');
    await waitFor(async () => output.join('').includes('shutting down'), {
      what: 'the first signal to be handled',
    });
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('a tool worker killed during a tool job', () => {
  it('does not execute the call twice, and a new worker finishes the job', async () => {
    const { job, child, exited, callId, backend } = await childRunning('select pg_sleep(10), 1 as done');
    const [row] = await env.db
      .select()
      .from(schema.toolExecutions)
      .where(eq(schema.toolExecutions.callId, callId));
    expect(row?.status).toBe('running');
    expect(await job.getState()).toBe('active');

    child.kill('SIGKILL');
    await exited;

    replacement = await startToolWorker(env.config(overrides), silentLog);
    const result = (await job.waitUntilFinished(tools.events, 20_000)) as ToolJobResult;

    expect(result.isError).toBe(true);
    expect(JSON.parse(result.output)).toMatchObject({
      code: 'interrupted',
      error: expect.stringMatching(/not run again/),
    });
    expect((await backendsOf(callId)).filter((pid) => pid !== backend)).toEqual([]);
    const executions = await env.db
      .select()
      .from(schema.toolExecutions)
      .where(eq(schema.toolExecutions.callId, callId));
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted: /) });
    expect(await job.getState()).toBe('completed');
  });
});

/** Adds a tool.invoke job of one run_sql call and waits for its result. */
async function runSqlJob(query: string): Promise<ToolJobResult> {
  const { runId, stepId, callIds } = await insertToolCalls(env.db, [
    { name: 'run_sql', arguments: { query } },
  ]);
  const callId = callIds[0] ?? '';
  const job = await tools.add({ runId, stepId, callId }, callId);
  return (await job.waitUntilFinished(tools.events, 60_000)) as ToolJobResult;
}

async function started(worker: ChildWorker): Promise<void> {
  await waitFor(async () => worker.output.join('').includes('tool worker started'), {
    timeoutMs: 30_000,
    what: `the child worker to start (output: ${worker.output.join('')})`,
  });
}

describe('a tool worker given results Node cannot hold', () => {
  it('answers with values cut in Postgres and keeps serving the next job', async () => {
    const worker = startChildWorker();
    await started(worker);

    const huge = await runSqlJob("select repeat('x', 540000000) as huge");
    expect(huge.isError).toBe(false);
    expect(JSON.parse(huge.output)).toMatchObject({
      rows: [[`${'x'.repeat(2000)}… [539998000 more characters]`]],
      truncated: true,
      note: expect.stringMatching(/longer than 2000 characters were cut/),
    });

    const adding = await runSqlJob("select n, repeat('y', 200000000) as big from generate_series(1, 3) n");
    expect(JSON.parse(adding.output)).toMatchObject({ row_count: 3, truncated: true });
    expect(adding.output.length).toBeLessThan(10_000);

    const next = await runSqlJob('select 1 as still_serving');
    expect(JSON.parse(next.output).rows).toEqual([[1]]);
    expect(worker.child.exitCode).toBeNull();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 120_000);
});

describe('a tool worker meeting an error nobody awaited', () => {
  it('logs it and keeps serving', async () => {
    const worker = startChildWorker([strayErrors]);
    await started(worker);
    worker.child.kill('SIGUSR2');
    await waitFor(
      async () => {
        const output = worker.output.join('');
        return output.includes('unhandled rejection;') && output.includes('uncaught exception;');
      },
      { what: `both stray errors to be logged (output: ${worker.output.join('')})` },
    );
    const next = await runSqlJob('select 1 as still_serving');
    expect(JSON.parse(next.output).rows).toEqual([[1]]);
    expect(worker.child.exitCode).toBeNull();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });
});
