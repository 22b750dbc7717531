import { EventEmitter } from 'node:events';
import { createLogger, STOP_REQUEST } from '@threadwork/shared';
import { describe, expect, it } from 'vitest';
import {
  type Child,
  type RestartPolicy,
  restartDelay,
  type SupervisorSeams,
  supervise,
} from './supervisor.js';

const policy: RestartPolicy = { initialDelayMs: 100, maxDelayMs: 1_000, resetAfterMs: 5_000 };

class FakeChild extends EventEmitter implements Child {
  readonly signals: NodeJS.Signals[] = [];
  readonly messages: string[] = [];
  connected = true;
  constructor(
    readonly name: string,
    readonly pid: number,
  ) {
    super();
  }
  kill(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    return true;
  }
  send(message: string): boolean {
    this.messages.push(message);
    return true;
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.emit('exit', code, signal);
  }
}

interface Sleep {
  ms: number;
  wake(): void;
}

interface LogLine {
  msg: string;
  service: string;
  code: number | null;
  signal: string | null;
  restartInMs: number;
  crashes: number;
}

/** Seams whose time, sleeps and children the test moves by hand. */
function harness(names: string[]) {
  const spawned: FakeChild[] = [];
  const sleeps: Sleep[] = [];
  const lines: LogLine[] = [];
  let clock = 0;
  const seams: SupervisorSeams = {
    spawn(name) {
      const child = new FakeChild(name, spawned.length + 1);
      spawned.push(child);
      return child;
    },
    now: () => clock,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        sleeps.push({ ms, wake: resolve });
        signal.addEventListener('abort', () => reject(signal.reason));
      }),
    log: createLogger({
      name: 'test',
      level: 'info',
      pretty: false,
      destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
    }),
    policy,
  };
  const supervisor = supervise(names, seams);
  const running = (name: string) => spawned.filter((child) => child.name === name).at(-1) as FakeChild;
  return {
    supervisor,
    spawned,
    sleeps,
    lines,
    running,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

/** Lets the supervisor's awaits run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('restartDelay', () => {
  it('doubles with each crash in a row, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 10].map((crashes) => restartDelay(crashes, policy))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });
});

describe('supervise', () => {
  it('starts every child, and restarts one that crashed after the delay while the others keep running', async () => {
    const { spawned, sleeps, lines, running } = harness(['api', 'run-worker', 'tool-worker']);
    expect(spawned.map((child) => child.name)).toEqual(['api', 'run-worker', 'tool-worker']);
    running('run-worker').exit(null, 'SIGKILL');
    await settle();
    expect(lines).toMatchObject([
      {
        msg: 'service exited; restarting it',
        service: 'run-worker',
        code: null,
        signal: 'SIGKILL',
        restartInMs: 100,
      },
    ]);
    expect(spawned).toHaveLength(3);
    sleeps[0]?.wake();
    await settle();
    expect(spawned.map((child) => child.name)).toEqual(['api', 'run-worker', 'tool-worker', 'run-worker']);
    expect(spawned.flatMap((child) => child.signals)).toEqual([]);
  });

  it('doubles the delay for crashes in a row, and starts over once a child stayed up a while', async () => {
    const { sleeps, lines, running, advance } = harness(['api']);
    for (let crash = 0; crash < 3; crash += 1) {
      advance(10);
      running('api').exit(1);
      await settle();
      sleeps.at(-1)?.wake();
      await settle();
    }
    advance(policy.resetAfterMs);
    running('api').exit(1);
    await settle();
    expect(lines.map((line) => [line.code, line.crashes, line.restartInMs])).toEqual([
      [1, 1, 100],
      [1, 2, 200],
      [1, 3, 400],
      [1, 1, 100],
    ]);
  });

  it('on stop signals every running child, again on a second stop, and restarts none of them', async () => {
    const { supervisor, spawned, sleeps } = harness(['api', 'run-worker']);
    supervisor.stop('SIGTERM');
    supervisor.stop('SIGTERM');
    expect(spawned.map((child) => child.signals)).toEqual([
      ['SIGTERM', 'SIGTERM'],
      ['SIGTERM', 'SIGTERM'],
    ]);
    spawned[0]?.exit(0);
    spawned[1]?.exit(0);
    expect(await supervisor.stopped).toBe(0);
    await settle();
    expect(spawned).toHaveLength(2);
    expect(sleeps).toHaveLength(0);
  });

  it('answers 1 when a child did not stop cleanly, and asks for a stop over the channels of those still connected', async () => {
    const { supervisor, spawned } = harness(['api', 'run-worker']);
    if (spawned[1]) spawned[1].connected = false;
    supervisor.stop('request');
    expect(spawned.map((child) => [child.signals, child.messages])).toEqual([
      [[], [STOP_REQUEST]],
      [[], []],
    ]);
    spawned[0]?.exit(0);
    spawned[1]?.exit(1);
    expect(await supervisor.stopped).toBe(1);
  });

  it('drops a pending restart when stopped during its delay', async () => {
    const { supervisor, spawned, running } = harness(['api', 'tool-worker']);
    running('tool-worker').exit(null, 'SIGSEGV');
    await settle();
    supervisor.stop('SIGTERM');
    running('api').exit(0);
    expect(await supervisor.stopped).toBe(0);
    await settle();
    expect(spawned.map((child) => child.name)).toEqual(['api', 'tool-worker']);
    expect(running('tool-worker').signals).toEqual([]);
  });
});
