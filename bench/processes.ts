// Spawns Threadwork services as separate processes (as they run in production), with a raised fd limit, and talks to
// them over IPC: ready, memory samples, graceful stop (which also lets --cpu-prof write its profile).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiNodeFlags } from '../services/api/src/node-flags.js';
import type { FromChild, MemorySample, ServiceName, ToChild } from './child/messages.js';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const serviceEntry = fileURLToPath(new URL('./child/service.ts', import.meta.url));

export interface ServiceProcess {
  name: ServiceName;
  pid: number;
  /** The API's base URL (http://127.0.0.1:port); null for workers. */
  url: string | null;
  memory(): Promise<MemorySample>;
  /** Writes a V8 heap snapshot (for a look at what each stream costs); answers its path. */
  heapSnapshot(file: string): Promise<string>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** Appends the process's stdout and stderr here. */
  logFile: string;
  /** Writes V8 CPU profiles into `<this folder>/<name>-<n>/` when the process exits. */
  cpuProfileDir?: string;
  startTimeoutMs?: number;
}

export class ServiceUnavailable extends Error {
  override name = 'ServiceUnavailable';
}

/**
 * Only these variables pass from the bench's environment: the services see the bench's configuration and nothing
 * else (no API key or provider URL of the person running it, so no traffic can leave the machine).
 */
const inherited = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];

function baseEnv(): Record<string, string> {
  return Object.fromEntries(
    inherited.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name] ?? '']])),
  );
}

/** `sh -c 'ulimit -n <hard>; exec node …'`: 10,000 sockets need more descriptors than the usual soft limit. */
export function spawnNode(args: string[], env: Record<string, string>, logFile: string): ChildProcess {
  const log = openSync(logFile, 'a');
  try {
    return spawn(
      '/bin/sh',
      ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', process.execPath, ...args],
      {
        cwd: repoRoot,
        env: { ...baseEnv(), ...env },
        stdio: ['ignore', log, log, 'ipc'],
      },
    );
  } finally {
    closeSync(log);
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

/** The next IPC message of one of `types` from a child, or an error if it exits or stays silent too long. */
export function nextMessage<M extends { type: string }, T extends M['type']>(
  child: ChildProcess,
  types: T[],
  timeoutMs: number,
): Promise<Extract<M, { type: T }>> {
  type Wanted = Extract<M, { type: T }>;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`no ${types.join('/')} from child within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: M) => {
      if ((types as string[]).includes(message.type)) done(null, message as Wanted);
    };
    const onExit = (code: number | null) =>
      done(new Error(`child exited (${code}) before ${types.join('/')}`));
    function done(error: Error | null, message?: Wanted) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else if (message) resolve(message);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

let spawned = 0;

export async function spawnService(name: ServiceName, options: SpawnOptions): Promise<ServiceProcess> {
  // One folder per process: each thread (tsx runs its loader hooks in a worker thread) writes its own profile.
  const profile = options.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfileDir, `${name}-${++spawned}`)}`]
    : [];
  const child = spawnNode(
    [
      ...(name === 'api' ? apiNodeFlags : []),
      '--import',
      'tsx',
      '--expose-gc',
      ...profile,
      serviceEntry,
      name,
    ],
    options.env,
    options.logFile,
  );
  const send = (message: ToChild) => child.send(message);
  let ready: Extract<FromChild, { type: 'ready' | 'unavailable' }>;
  try {
    ready = await nextMessage<FromChild, 'ready' | 'unavailable'>(
      child,
      ['ready', 'unavailable'],
      options.startTimeoutMs ?? 60_000,
    );
  } catch (error) {
    if (child.pid) child.kill('SIGKILL');
    throw new Error(`${name} did not start: ${(error as Error).message}\n${tail(options.logFile)}`);
  }
  if (ready.type === 'unavailable') {
    await exited(child, 5_000);
    throw new ServiceUnavailable(`${name}: ${ready.reason}`);
  }
  return {
    name,
    pid: child.pid ?? 0,
    url: ready.url,
    async memory() {
      const reply = nextMessage<FromChild, 'memory'>(child, ['memory'], 30_000);
      send({ type: 'memory' });
      return (await reply).memory;
    },
    async heapSnapshot(file) {
      const reply = nextMessage<FromChild, 'heap-snapshot'>(child, ['heap-snapshot'], 120_000);
      send({ type: 'heap-snapshot', file });
      return (await reply).file;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      send({ type: 'stop' });
      if (!(await exited(child, 20_000))) {
        child.kill('SIGKILL');
        await exited(child, 5_000);
      }
    },
  };
}
