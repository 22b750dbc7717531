import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { schema, type ToolJobResult } from '@threadwork/shared';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startToolWorker, type ToolWorker } from '../src/worker.js';
import { createEnvironment, silentLog, type TestEnvironment } from './support/environment.js';
import { createToolQueue, type ToolQueue } from './support/queue.js';
import { insertToolCalls } from './support/rows.js';
import { waitFor } from './support/wait.js';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const mainModule = fileURLToPath(new URL('../src/main.ts', import.meta.url));

let env: TestEnvironment;
let tools: ToolQueue;
let child: ChildProcess | undefined;
let replacement: ToolWorker | undefined;
const childOutput: string[] = [];

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
  child?.kill('SIGKILL');
  await replacement?.close();
  await tools?.close();
  await env?.close();
});

function startChildWorker(): ChildProcess {
  const processEnv = {
    ...process.env,
    ...env.variables({ ...overrides, LOG_LEVEL: 'info', PRETTY_LOGS: 'false' }),
  };
  const started = spawn(process.execPath, ['--import', 'tsx', mainModule], {
    cwd: repositoryRoot,
    env: processEnv,
  });
  started.stdout?.on('data', (chunk: Buffer) => childOutput.push(chunk.toString()));
  started.stderr?.on('data', (chunk: Buffer) => childOutput.push(chunk.toString()));
  return started;
}

async function backendsOf(callId: string): Promise<number[]> {
  const found = await env.toolsPool.query<{ pid: number }>(
    'select pid from pg_stat_activity where application_name = $1 order by backend_start',
    [`threadwork run_sql ${callId}`],
  );
  return found.rows.map((row) => row.pid);
}

describe('a tool worker killed during a tool job', () => {
  it('does not execute the call twice, and a new worker finishes the job', async () => {
    const { runId, stepId, callIds } = await insertToolCalls(env.db, [
      { name: 'run_sql', arguments: { query: 'select pg_sleep(10), 1 as done' } },
    ]);
    const callId = callIds[0] ?? '';
    const job = await tools.add({ runId, stepId, callId }, callId);
    child = startChildWorker();

    const [sleeper] = await waitFor(
      async () => {
        const [row] = await env.db
          .select({ status: schema.toolExecutions.status })
          .from(schema.toolExecutions)
          .where(eq(schema.toolExecutions.callId, callId));
        const backends = await backendsOf(callId);
        return row?.status === 'running' && backends.length === 1 && backends;
      },
      { timeoutMs: 30_000, what: `the child worker to run the query (output: ${childOutput.join('')})` },
    );
    expect(await job.getState()).toBe('active');

    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    replacement = await startToolWorker(env.config(overrides), silentLog);
    const result = (await job.waitUntilFinished(tools.events, 20_000)) as ToolJobResult;

    expect(result.isError).toBe(true);
    expect(JSON.parse(result.output)).toMatchObject({
      code: 'interrupted',
      error: expect.stringMatching(/not run again/),
    });
    expect((await backendsOf(callId)).filter((pid) => pid !== sleeper)).toEqual([]);
    const executions = await env.db
      .select()
      .from(schema.toolExecutions)
      .where(eq(schema.toolExecutions.callId, callId));
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted: /) });
    expect(await job.getState()).toBe('completed');
  });
});
