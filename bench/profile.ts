// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per package, busiest first.
// Also a command: `npx tsx bench/profile.ts <file.cpuprofile or folder of them>…`.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { round } from './stats.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  /** Microseconds on the system's monotonic clock, the one process.hrtime reads. */
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled time, idle included. */
  totalMs: number;
  /** Share of the samples that were not idle. */
  busyPercent: number;
  functions: SelfTime[];
  packages: SelfTime[];
}

/** Where code lives, short: a package name, a workspace file, or a Node internal. */
export function locationOf(url: string): string {
  if (url === '') return '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (modules) return `${modules[1]}/${basename(modules[2] ?? '')}`;
  const workspace = /\/((?:services|packages|bench)\/.*)$/.exec(url);
  if (workspace?.[1]) return workspace[1];
  return url.replace(/^node:/, 'node:');
}

function packageOf(url: string): string {
  if (url === '') return '';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (modules?.[1]) return modules[1];
  const workspace = /\/((?:services|packages)\/[^/]+)\//.exec(url);
  if (workspace?.[1]) return workspace[1];
  return url.startsWith('node:') ? 'node internals' : url;
}

function top(totals: Map<string, number>, busyMs: number, count: number): SelfTime[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, micros]) => ({
      name,
      selfMs: round(micros / 1000, 1),
      percent: round((micros / 1000 / busyMs) * 100, 1),
    }));
}

/** The busiest profile in a folder: a process's main thread, not its loader thread. */
export interface SummaryOptions {
  count?: number;
  /** Only samples taken in [from, to], microseconds of process.hrtime (start-up and shutdown left out). */
  window?: { from: number; to: number };
}

/** process.hrtime in microseconds, comparable with a profile's sample times on the same machine. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function summariseMainThread(folder: string, options: SummaryOptions = {}): ProfileSummary | null {
  const summaries = readdirSync(folder)
    .filter((file) => file.endsWith('.cpuprofile'))
    .map((file) => summariseProfile(join(folder, file), options));
  const busiest = summaries.sort((a, b) => b.totalMs * b.busyPercent - a.totalMs * a.busyPercent)[0];
  return busiest ? { ...busiest, file: `${basename(folder)}/${busiest.file}` } : null;
}

export function summariseProfile(file: string, options: SummaryOptions = {}): ProfileSummary {
  const { count = 15, window } = options;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (window && (at < window.from || at > window.to)) return;
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, micros] of self) {
    const frame = nodes.get(id);
    if (!frame) continue;
    total += micros;
    if (frame.functionName === '(idle)') {
      idle += micros;
      continue;
    }
    const name = `${frame.functionName || '(anonymous)'} ${locationOf(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
    const pkg =
      frame.url === '' && !frame.functionName.startsWith('(')
        ? '(native)'
        : packageOf(frame.url) || frame.functionName;
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
  }
  const busyMs = Math.max(1, (total - idle) / 1000);
  return {
    file: basename(file),
    totalMs: round(total / 1000, 0),
    busyPercent: round(((total - idle) / Math.max(1, total)) * 100, 1),
    functions: top(functions, busyMs, count),
    packages: top(packages, busyMs, count),
  };
}

export function profileMarkdown(summary: ProfileSummary): string {
  const rows = (items: SelfTime[]) =>
    items.map((item) => `| ${item.name} | ${item.selfMs} | ${item.percent} % |`);
  return [
    `**${summary.file}**: ${summary.totalMs} ms sampled, ${summary.busyPercent} % busy`,
    '',
    '| function (self time) | ms | of busy |',
    '|---|---:|---:|',
    ...rows(summary.functions),
    '',
    '| package (self time) | ms | of busy |',
    '|---|---:|---:|',
    ...rows(summary.packages),
    '',
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  for (const path of process.argv.slice(2)) {
    const summary = path.endsWith('.cpuprofile')
      ? summariseProfile(path, { count: 25 })
      : summariseMainThread(path, { count: 25 });
    if (summary) process.stdout.write(`${profileMarkdown(summary)}\n`);
  }
}
