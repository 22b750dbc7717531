// CPU time a process has used (user + system), read from /proc, to express cost as CPU milliseconds per run.
import { readFileSync } from 'node:fs';

/** Linux reports utime and stime in clock ticks of 1/100 s on every common configuration. */
const TICK_MS = 10;

export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
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
