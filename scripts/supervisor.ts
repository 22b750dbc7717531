// Keeps child processes running: a child that exits is started again after an exponential backoff, until a stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { type Logger, STOP_REQUEST } from '@threadwork/shared';

/** What the supervisor needs of a child process (a `ChildProcess` has it). */
export interface Child {
  readonly pid?: number | undefined;
  /** Whether its IPC channel is open. */
  readonly connected: boolean;
  kill(signal: NodeJS.Signals): boolean;
  send(message: typeof STOP_REQUEST): boolean;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

export interface RestartPolicy {
  /** The delay before the first restart; each further crash in a row doubles it. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A child that stayed up this long before it exited counts as healthy again: its next delay is the first one. */
  resetAfterMs: number;
}

export const defaultRestartPolicy: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  resetAfterMs: 60_000,
};

export interface SupervisorSeams {
  spawn: (name: string) => Child;
  now: () => number;
  /** Resolves after `ms`, or rejects once `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  log: Logger;
  policy?: RestartPolicy;
}

/** How a stop reaches the running children: a signal, or `request`, a stop asked over each child's IPC channel. */
export type StopBy = NodeJS.Signals | 'request';

export interface Supervisor {
  /**
   * Stops restarting and sends every child still running the signal (again on each call, so a second signal makes
   * them exit at once), or asks each one to stop (`request`), which a child already stopping ignores.
   */
  stop(by: StopBy): void;
  /** Resolves once stopped and every child has exited: 0 when each one running then exited cleanly, else 1. */
  readonly stopped: Promise<number>;
}

/** The delay before restarting a child that crashed `crashes` times in a row (1 for the first). */
export function restartDelay(crashes: number, policy: RestartPolicy): number {
  return Math.min(policy.initialDelayMs * 2 ** Math.max(0, crashes - 1), policy.maxDelayMs);
}

interface Supervised {
  name: string;
  child: Child | null;
  startedAt: number;
  crashes: number;
}

export function supervise(names: readonly string[], seams: SupervisorSeams): Supervisor {
  const policy = seams.policy ?? defaultRestartPolicy;
  const stopping = new AbortController();
  let failed = false;
  let settle: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => {
    settle = resolve;
  });
  const all = names.map((name): Supervised => ({ name, child: null, startedAt: 0, crashes: 0 }));

  function settleIfDone(): void {
    if (stopping.signal.aborted && all.every((each) => each.child === null)) settle(failed ? 1 : 0);
  }

  function start(supervised: Supervised): void {
    const child = seams.spawn(supervised.name);
    supervised.child = child;
    supervised.startedAt = seams.now();
    child.once('exit', (code, signal) => {
      supervised.child = null;
      if (!stopping.signal.aborted) return void restart(supervised, code, signal);
      if (code !== 0) failed = true;
      settleIfDone();
    });
  }

  async function restart(supervised: Supervised, code: number | null, signal: NodeJS.Signals | null) {
    const uptimeMs = Math.round(seams.now() - supervised.startedAt);
    supervised.crashes = uptimeMs >= policy.resetAfterMs ? 1 : supervised.crashes + 1;
    const delayMs = restartDelay(supervised.crashes, policy);
    seams.log.error(
      { service: supervised.name, code, signal, uptimeMs, crashes: supervised.crashes, restartInMs: delayMs },
      'service exited; restarting it',
    );
    try {
      await seams.sleep(delayMs, stopping.signal);
    } catch {
      return settleIfDone();
    }
    if (stopping.signal.aborted) return settleIfDone();
    start(supervised);
  }

  for (const supervised of all) start(supervised);
  return {
    stop(by) {
      if (!stopping.signal.aborted) stopping.abort();
      for (const { child } of all) {
        if (!child) continue;
        if (by !== 'request') child.kill(by);
        else if (child.connected) child.send(STOP_REQUEST);
      }
      settleIfDone();
    },
    stopped,
  };
}

/** The real seams: `command(name)` says how to start each child; the children share this terminal's output. */
export function processSeams(
  command: (name: string) => { args: string[]; cwd: string; env: NodeJS.ProcessEnv },
  log: Logger,
): SupervisorSeams {
  return {
    spawn(name) {
      const { args, cwd, env } = command(name);
      // The IPC channel lets a child notice this process is gone (it then shuts down) rather than linger.
      const child: ChildProcess = spawn(process.execPath, args, {
        cwd,
        env,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('error', (error) => log.error({ err: error, service: name }, 'service process error'));
      return child;
    },
    now: () => performance.now(),
    sleep: (ms, signal) => sleepFor(ms, undefined, { signal }),
    log,
  };
}

/**
 * SIGTERM is forwarded to the children. SIGINT asks each child to stop: Ctrl+C gives it to the whole process group,
 * and a child that has it already ignores the request, but it may also have been sent to this process alone. A
 * second signal of either kind kills them at once.
 */
export function stopOnSignals(supervisor: Supervisor): void {
  let signalled = false;
  const stop = (first: StopBy) => {
    supervisor.stop(signalled ? 'SIGKILL' : first);
    signalled = true;
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('request'));
}
