// The supervisor over real child processes: a killed child comes back, the other keeps running, signals stop all.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@threadwork/testing';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Line {
  msg: string;
  child?: string;
  pid?: number;
  service?: string;
  code?: number | null;
  signal?: string | null;
  restartInMs?: number;
}

interface Harness {
  process: ChildProcess;
  lines: Line[];
  exited: Promise<number | null>;
  /** The pid of a child's latest start, once it said it is ready. */
  readyPid(child: string): Promise<number>;
  pidsOf(child: string): number[];
}

const started: Harness[] = [];

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts the supervisor fixture in its own process group, as a terminal would start `npm start`. */
function startHarness(childStopMs: number): Harness {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/processes/supervised-children.ts'], {
    cwd: root,
    detached: true,
    env: { ...process.env, CHILD_STOP_MS: String(childStopMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Line[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) if (line.startsWith('{')) lines.push(JSON.parse(line) as Line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pidsOf = (name: string) =>
    lines
      .filter((line) => line.msg === 'child ready' && line.child === name)
      .map((line) => line.pid as number);
  const harness: Harness = {
    process: child,
    lines,
    exited,
    pidsOf,
    readyPid: (name) =>
      waitFor(async () => pidsOf(name).at(-1), { timeoutMs: 15_000, what: `${name} to be ready` }),
  };
  started.push(harness);
  return harness;
}

afterEach(() => {
  for (const harness of started.splice(0)) {
    const pids = [harness.process.pid, ...harness.pidsOf('first'), ...harness.pidsOf('second')];
    for (const pid of pids) if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});

async function allExited(pids: number[]): Promise<boolean> {
  return waitFor(async () => pids.every((pid) => !isAlive(pid)), {
    timeoutMs: 10_000,
    what: `processes ${pids} to exit`,
  });
}

describe('the supervisor with real child processes', () => {
  it('restarts a child killed with SIGKILL, logging why and when, while the other keeps running', async () => {
    const harness = startHarness(100);
    const first = await harness.readyPid('first');
    const second = await harness.readyPid('second');
    process.kill(first, 'SIGKILL');
    const restarted = await waitFor(async () => harness.pidsOf('first').find((pid) => pid !== first), {
      timeoutMs: 15_000,
      what: 'the killed child to be started again',
    });
    expect(restarted).not.toBe(first);
    expect(isAlive(first)).toBe(false);
    expect(harness.lines.filter((line) => line.msg === 'service exited; restarting it')).toEqual([
      expect.objectContaining({ service: 'first', code: null, signal: 'SIGKILL', restartInMs: 200 }),
    ]);
    expect(harness.pidsOf('second')).toEqual([second]);
    expect(isAlive(second)).toBe(true);
  });

  it('stops every child on SIGTERM and restarts none; a second SIGTERM ends them at once', async () => {
    const harness = startHarness(60_000);
    const pids = [await harness.readyPid('first'), await harness.readyPid('second')];
    harness.process.kill('SIGTERM');
    await waitFor(async () => harness.lines.filter((line) => line.msg === 'shutting down').length === 2, {
      what: 'both children to start their shutdown',
    });
    expect(pids.every(isAlive)).toBe(true);
    harness.process.kill('SIGTERM');
    expect(await harness.exited).toBe(1);
    await allExited(pids);
    expect(harness.lines.some((line) => line.msg === 'service exited; restarting it')).toBe(false);
  });

  it('stops every child gracefully when SIGINT reaches the supervisor alone (kill -INT)', async () => {
    const harness = startHarness(100);
    const pids = [await harness.readyPid('first'), await harness.readyPid('second')];
    harness.process.kill('SIGINT');
    expect(await harness.exited).toBe(0);
    await allExited(pids);
    expect(harness.lines.filter((line) => line.msg === 'shutting down')).toHaveLength(2);
    expect(harness.lines.some((line) => line.msg === 'service exited; restarting it')).toBe(false);
  });

  it('stops every child gracefully when Ctrl+C reaches the process group', async () => {
    const harness = startHarness(100);
    const pids = [await harness.readyPid('first'), await harness.readyPid('second')];
    process.kill(-(harness.process.pid as number), 'SIGINT');
    expect(await harness.exited).toBe(0);
    await allExited(pids);
    expect(harness.lines.filter((line) => line.msg === 'shutting down')).toHaveLength(2);
    expect(harness.lines.some((line) => line.msg === 'service exited; restarting it')).toBe(false);
  });
});
