// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per package, busiest first.
// Also a command: `npx tsx bench/profile.ts <file.cpuprofile>…`.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
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
  if (url === '') return '(native, gc, idle)';
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

export function summariseProfile(file: string, count = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
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
    const pkg = frame.url === '' ? frame.functionName : packageOf(frame.url);
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
  for (const file of process.argv.slice(2))
    process.stdout.write(`${profileMarkdown(summariseProfile(file, 25))}\n`);
}
