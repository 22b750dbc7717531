// Sessions as OpenAI had them: a thread's variables and files last between its calls, in the worker that holds its
// session, until it is idle too long or its worker stops; then the next call says it starts anew.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  findSandboxSession,
  newId,
  SANDBOX_QUEUE,
  type SandboxFile,
  sandboxQueueFor,
  sandboxSessionKey,
  sandboxWorkerIdsKey,
  sandboxWorkerQueue,
} from '@threadwork/shared';
import { waitFor } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSandboxWorker } from '../src/worker.js';
import {
  type SandboxHarness,
  sandboxConfig,
  silentLog,
  startSandboxHarness,
} from './support/sandbox-queue.js';

let sandbox: SandboxHarness;

beforeAll(async () => {
  sandbox = await startSandboxHarness(
    sandboxConfig(inject('redisUrl'), { SANDBOX_SESSION_IDLE_MS: '4000', SANDBOX_CALL_TIMEOUT_MS: '10000' }),
  );
});

afterAll(async () => sandbox?.close());

/** Runs a call the way the run worker routes it: to the worker holding the thread's session, if it lives. */
async function routedRun(code: string, threadId: string, files: SandboxFile[] = []) {
  const queue = await sandboxQueueFor(sandbox.redis, sandbox.config.QUEUE_PREFIX, threadId);
  return sandbox.run(code, { threadId, queue, files });
}

describe('a session', () => {
  it("keeps a thread's variables and files between its calls", async () => {
    const threadId = newId('thread');
    const first = await routedRun("total = 40\nopen('/mnt/data/note.txt', 'w').write('kept')", threadId);
    expect(first).toMatchObject({ session: 'new', isError: false });
    const second = await routedRun("print(total + 2, open('/mnt/data/note.txt').read())", threadId);
    expect(second).toMatchObject({ logs: '42 kept\n', session: 'continued' });
  });

  it("is its thread's own: another thread sees none of it", async () => {
    const threadId = newId('thread');
    await routedRun('secret = 1', threadId);
    const other = await routedRun("print('secret' in globals())", newId('thread'));
    expect(other).toMatchObject({ logs: 'False\n', session: 'new' });
  });

  it("routes the thread's calls to the worker that holds it", async () => {
    const threadId = newId('thread');
    await routedRun('x = 1', threadId);
    const session = await findSandboxSession(sandbox.redis, sandbox.config.QUEUE_PREFIX, threadId);
    expect(session?.workerId).toBe(sandbox.worker.id);
    expect(await sandboxQueueFor(sandbox.redis, sandbox.config.QUEUE_PREFIX, threadId)).toBe(
      sandboxWorkerQueue(sandbox.worker.id),
    );
    expect(await sandboxQueueFor(sandbox.redis, sandbox.config.QUEUE_PREFIX, newId('thread'))).toBe(
      SANDBOX_QUEUE,
    );
  });

  it('ends when idle, and the next call starts a new one', async () => {
    const threadId = newId('thread');
    await routedRun('x = 1', threadId);
    await waitFor(
      async () => !(await findSandboxSession(sandbox.redis, sandbox.config.QUEUE_PREFIX, threadId)),
      { what: 'the idle session to end' },
    );
    const after = await routedRun("print('x' in globals())", threadId);
    expect(after).toMatchObject({ logs: 'False\n', session: 'new' });
  });
});

describe('a call', () => {
  it('runs at most once: delivered again, it answers that it was not run again', async () => {
    const threadId = newId('thread');
    const first = await sandbox.run('count = 1\nprint(count)', { threadId });
    const again = await sandbox.run('count += 1\nprint(count)', { threadId, callId: first.callId });
    expect(again).toMatchObject({ callId: first.callId, isError: true, session: 'not_run' });
    expect(again.logs).toMatch(/never finished .* not run again/);
    expect(await routedRun('print(count)', threadId)).toMatchObject({ logs: '1\n' });
  });
});

describe('files', () => {
  it("puts the call's files in /mnt/data once per session, and hands back the files and figures the code made", async () => {
    const threadId = newId('thread');
    const csv = { name: 'data.csv', data: Buffer.from('x,y\n1,2\n3,4\n').toString('base64') };
    const code = `
import pandas as pd, matplotlib.pyplot as plt
df = pd.read_csv('/mnt/data/data.csv')
df.to_csv('/mnt/data/doubled.csv', index=False)
plt.plot(df['x'], df['y'])
open('/mnt/data/data.csv', 'a').write('5,6\\n')
print(df['y'].sum())`;
    const first = await routedRun(code, threadId, [csv]);
    expect(first).toMatchObject({ isError: false });
    expect(first.logs).toBe(
      '6\n\n[Files written, handed to the user: sandbox:/mnt/data/data.csv, sandbox:/mnt/data/doubled.csv]',
    );
    expect(first.images).toHaveLength(1);
    expect(
      Buffer.from(first.images[0] ?? '', 'base64')
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect(first.files.map((file) => file.name).sort()).toEqual(['data.csv', 'doubled.csv']);
    const again = await routedRun("print(open('/mnt/data/data.csv').read().count('\\n'))", threadId, [csv]);
    expect(again.logs).toBe('4\n');
  });
});

describe('with several workers', () => {
  it('keeps each session on its own worker', async () => {
    const second = await startSandboxWorker(sandbox.config, silentLog);
    try {
      const threads = [newId('thread'), newId('thread'), newId('thread'), newId('thread')];
      await Promise.all(threads.map((threadId, index) => routedRun(`mine = ${index}`, threadId)));
      const answers = await Promise.all(threads.map((threadId) => routedRun('print(mine)', threadId)));
      expect(answers.map((answer) => answer.logs)).toEqual(['0\n', '1\n', '2\n', '3\n']);
      expect(answers.every((answer) => answer.session === 'continued')).toBe(true);
    } finally {
      await second.close();
    }
  });
});

describe('when its worker stops', () => {
  it('the next call starts a new session and says so, like a restarted kernel', async () => {
    const threadId = newId('thread');
    await routedRun('kept = 1', threadId);
    await sandbox.restartWorker();
    const after = await routedRun("print('kept' in globals())", threadId);
    expect(after.session).toBe('restarted');
    expect(after.logs).toMatch(/^\[The earlier session of this thread was lost .*\]\nFalse\n$/);
    const next = await routedRun("print('ok')", threadId);
    expect(next).toMatchObject({ logs: 'ok\n', session: 'continued' });
  });
});

describe('a call left on the queue of a worker that stopped', () => {
  it('is run by another worker, in a new session that says so', async () => {
    const prefix = sandbox.config.QUEUE_PREFIX;
    const deadId = 'deadbeef0001';
    const threadId = newId('thread');
    await sandbox.redis.sadd(sandboxWorkerIdsKey(prefix), deadId);
    const lost = JSON.stringify({ workerId: deadId, startedAt: Date.now() });
    await sandbox.redis.set(sandboxSessionKey(prefix, threadId), lost);
    const result = await sandbox.run('print("taken over")', { threadId, queue: sandboxWorkerQueue(deadId) });
    expect(result.session).toBe('restarted');
    expect(result.logs).toMatch(/^\[The earlier session of this thread was lost .*\]\ntaken over\n$/);
    expect(await sandbox.redis.sismember(sandboxWorkerIdsKey(prefix), deadId)).toBe(0);
  });
});

describe('start-up', () => {
  it('refuses to start when bubblewrap does not work, saying why', async () => {
    const broken = { ...sandbox.config, SANDBOX_BWRAP_PATH: '/nonexistent/bwrap' };
    await expect(startSandboxWorker(broken, silentLog)).rejects.toThrow(
      /the sandbox did not start.*\/nonexistent\/bwrap.*bubblewrap must be installed/,
    );
  });

  it('the process exits with one line naming the problem', async () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const started = promisify(execFile)(process.execPath, ['--import', 'tsx', main], {
      env: {
        PATH: process.env.PATH ?? '',
        REDIS_URL: sandbox.config.REDIS_URL,
        SANDBOX_BWRAP_PATH: '/nonexistent/bwrap',
        SANDBOX_WORKER_PORT: '0',
        PRETTY_LOGS: 'false',
      },
    });
    const failure = await started.then(
      () => null,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    const lines = `${failure?.stdout}${failure?.stderr}`.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 60, msg: expect.stringMatching(/bubblewrap/) });
  });
});
