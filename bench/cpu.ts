// CPU time a process has used (user + system), read from /proc, to express cost as CPU milliseconds per run.
import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports utime and stime in clock ticks of 1/100 s on every common configuration. */
const TICK_MS = 10;

interface ProcStat {
  command: string;
  cpuMs: number;
  /** CPU of its children that have exited and been waited for (a Postgres server's closed backends). */
  exitedChildrenCpuMs: number;
}

function readStat(pid: number | string): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces; the counters follow it.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return {
      command: stat.slice(stat.indexOf('(') + 1, close),
      cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS,
      exitedChildrenCpuMs: (Number(fields[13]) + Number(fields[14])) * TICK_MS,
    };
  } catch {
    return null;
  }
}

export function processCpuMs(pid: number): number {
  return readStat(pid)?.cpuMs ?? Number.NaN;
}

/**
 * CPU ms of every process with this command name (e.g. all `postgres` backends), and of their children that have
 * exited: a backend whose connection closes between two readings would otherwise take all its CPU out of the
 * difference. The servers are shared, so this counts whatever else uses them at the same time too.
 */
export function commandCpuMs(command: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat?.command === command) total += stat.cpuMs + stat.exitedChildrenCpuMs;
  }
  return total;
}

/** CPU ms of named groups of processes, e.g. { api: [pid], 'run-worker': [pid, pid] }. */
export function cpuByGroup(groups: Record<string, number[]>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(groups).map(([name, pids]) => [
      name,
      pids.reduce((sum, pid) => sum + processCpuMs(pid), 0),
    ]),
  );
}
