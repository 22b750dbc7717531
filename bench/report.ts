// The report: the markdown tables printed at the end of a run (and pasted into docs/performance.md), and progress
// lines on stderr while it runs. The only module that writes to the terminal.
import { readFileSync, writeFileSync } from 'node:fs';
import type { BenchResults, TargetCheck } from './results.js';
import type { ScaleOutResult } from './scenarios/scale-out.js';
import type { LatencySummary } from './stats.js';

const dash = '–';

function value(number: number | null | undefined, unit = ''): string {
  if (number === null || number === undefined || Number.isNaN(number)) return dash;
  const digits = number >= 100 ? 0 : number >= 10 ? 1 : number >= 0.1 ? 2 : 3;
  const text = number.toFixed(digits);
  return unit ? `${text} ${unit}` : text;
}

function verdict(isMet: boolean | null): string {
  if (isMet === null) return 'not measured';
  return isMet ? 'met' : '**not met**';
}

function targetRow(target: TargetCheck): string {
  return `| ${target.figure} | ${value(target.measured, target.unit)} | ${value(target.floor)} | ${value(target.ratio)}${target.ratio === null ? '' : ' ×'} | ${target.target} | ${verdict(target.isMet)} |`;
}

function latencyRow(name: string, summary: LatencySummary | undefined, floorName = ''): string {
  if (!summary) return `| ${name} | ${dash} | ${dash} | ${dash} | ${dash} | ${dash} |`;
  return `| ${name}${floorName} | ${summary.count} | ${value(summary.p50)} | ${value(summary.p95)} | ${value(summary.p99)} | ${value(summary.max)} |`;
}

function floorSection(results: BenchResults): string[] {
  const { floor } = results;
  if (!floor) return [];
  return [
    '### Floor (BullMQ alone, same Redis, same job options)',
    '',
    `- no-op jobs, one Worker, concurrency 50, ${floor.noopJobs} jobs added in bulk: **${value(floor.noopJobsPerSecond)} jobs/s**`,
    ...(floor.pathRunsPerSecond === undefined
      ? []
      : [
          `- context: a run's hops on bare drivers (path-floor.ts), counted as scenario 1 counts runs with ${results.options.clients} clients: **${value(floor.pathRunsPerSecond)} runs/s**, ${value(floor.pathRunsPerSecond / floor.noopJobsPerSecond)} × the no-op jobs/s`,
        ]),
    '',
    '| latency (ms) | n | p50 | p95 | p99 | max |',
    '|---|---:|---:|---:|---:|---:|',
    latencyRow('BullMQ add → completed (one job at a time)', floor.roundTrip),
    latencyRow('BullMQ flow: parent + 1 child on another queue', floor.flowRoundTrip),
    latencyRow('Postgres: one durable single-row INSERT (context)', floor.postgresCommit),
    latencyRow(
      'A streamed run’s hops on bare drivers: POST → run.completed (context, path-floor.ts)',
      floor.pathRoundTrip,
    ),
    latencyRow(
      'The same path over scenario 5’s model server: first token added (context)',
      floor.pathFirstTokenAdded,
    ),
    '',
  ];
}

function latencySection(results: BenchResults): string[] {
  const { latency, toolHop, firstToken } = results;
  const lines = [
    '### Latencies (ms)',
    '',
    '| figure | n | p50 | p95 | p99 | max |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  if (latency) {
    lines.push(latencyRow('streamed run: POST → thread.run.completed', latency.completed));
    lines.push(latencyRow('streamed run: POST → first text delta', latency.firstDelta));
    for (const [name, summary] of Object.entries(latency.stages))
      lines.push(latencyRow(`  stage: ${name}`, summary));
  }
  if (toolHop?.status === 'measured') {
    lines.push(latencyRow('run without tools ("list the tables")', toolHop.withoutTool));
    lines.push(latencyRow('run with one list_tables hop', toolHop.withTool));
  }
  if (firstToken) {
    lines.push(
      latencyRow(`first token added over a ${firstToken.providerDelayMs} ms provider`, firstToken.added),
    );
    lines.push(latencyRow('  of which POST → provider request', firstToken.beforeProvider));
    lines.push(latencyRow('  of which provider first token → client', firstToken.afterProvider));
  }
  const { sandbox } = results;
  if (sandbox?.status === 'measured') {
    lines.push(
      latencyRow('code_interpreter print(1), warm session (queue → sandbox → result)', sandbox.warm),
    );
    lines.push(
      latencyRow('code_interpreter print(1), new session (new Python in a new sandbox)', sandbox.newSession),
    );
  }
  if (toolHop?.status === 'blocked') lines.push('', `Tool hop: **blocked**: ${toolHop.reason}`);
  if (sandbox?.status === 'blocked') lines.push('', `Sandbox: **blocked**: ${sandbox.reason}`);
  return [...lines, ''];
}

function scalingSection(results: BenchResults): string[] {
  const { scaling, floor } = results;
  if (!scaling || scaling.length === 0) return [];
  return [
    `### Throughput by run-worker processes (${scaling[0]?.clients} clients, createAndRun → completed)`,
    '',
    '| run workers | runs/s | × floor | run latency p50 | p99 | CPU ms per run: API | run workers | Postgres* | Redis* | bench client | failed |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...scaling.map(
      (point) =>
        `| ${point.runWorkers} | ${value(point.runsPerSecond)} | ${floor ? value(point.runsPerSecond / floor.noopJobsPerSecond) : dash} | ${value(point.runLatency.p50)} ms | ${value(point.runLatency.p99)} ms | ${value(point.cpuMsPerRun.api)} | ${value(point.cpuMsPerRun['run-worker'])} | ${value(point.cpuMsPerRun.postgres)} | ${value(point.cpuMsPerRun.redis)} | ${value(point.cpuMsPerRun['bench client'])} | ${point.failed}${point.firstError ? ` (${point.firstError.slice(0, 60)})` : ''} |`,
    ),
    '',
    '\\* every process of that server: other users of the same Postgres and Redis count too.',
    '',
    ...workSection(scaling[0]?.workPerRun),
  ];
}

/** Postgres counters, the Redis total and the busiest Redis commands. */
function workSection(work: Record<string, number> | undefined): string[] {
  if (!work || Object.keys(work).length === 0) return [];
  const entries = Object.entries(work);
  const postgres = entries.filter(([name]) => name.startsWith('pg '));
  const commands = entries
    .filter(([name]) => name.startsWith('redis ') && name !== 'redis commands*')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  const shown = [...postgres, ['redis commands*', work['redis commands*'] ?? 0] as const, ...commands];
  return [
    `Work per run (1 run worker): ${shown.map(([name, count]) => `${name} ${value(count)}`).join(', ')} (\\* every Redis client counts).`,
    '',
  ];
}

function toolScalingSection(results: BenchResults): string[] {
  const points = results.toolScaling;
  if (!points || points.length === 0) return [];
  return [
    '### Tool-run throughput (one list_tables hop per run) by run and tool workers',
    '',
    '| run workers | tool workers | runs/s | run latency p50 | p99 | CPU ms per run: API | run workers | tool workers | Postgres* | failed |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...points.map(
      (point) =>
        `| ${point.runWorkers} | ${point.toolWorkers} | ${value(point.runsPerSecond)} | ${value(point.runLatency.p50)} ms | ${value(point.runLatency.p99)} ms | ${value(point.cpuMsPerRun.api)} | ${value(point.cpuMsPerRun['run-worker'])} | ${value(point.cpuMsPerRun['tool-worker'])} | ${value(point.cpuMsPerRun.postgres)} | ${point.failed}${point.firstError ? ` (${point.firstError.slice(0, 60)})` : ''} |`,
    ),
    '',
  ];
}

function scaleOutSection(results: BenchResults): string[] {
  const { scaleOut } = results;
  if (!scaleOut) return [];
  const row = (point: ScaleOutResult['single']) =>
    `| ${point.topology.apis} | ${point.topology.runWorkers} | ${point.topology.redis} | ${point.topology.postgres} | ${value(point.runsPerSecond)} | ${value(point.runLatency.p50)} ms | ${value(point.runLatency.p99)} ms | ${value(point.cpuMsPerRun.api)} | ${value(point.cpuMsPerRun['run-worker'])} | ${value(point.cpuMsPerRun.redis)} | ${point.failed}${point.firstError ? ` (${point.firstError.slice(0, 60)})` : ''} |`;
  return [
    `### Scale-out (${scaleOut.single.clients} clients, createAndRun → completed; docs/scaling.md)`,
    '',
    '| APIs | run workers | Redis | Postgres | runs/s | run latency p50 | p99 | CPU ms per run: APIs | run workers | Redis* | failed |',
    '|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|',
    row(scaleOut.single),
    row(scaleOut.scaledOut),
    '',
  ];
}

function sseSection(results: BenchResults): string[] {
  const { sse } = results;
  if (!sse) return [];
  const mib = (bytes: number) => value(bytes / 1024 / 1024, 'MiB');
  return [
    '### SSE fan-out (one API process)',
    '',
    `- streams open: **${sse.open}** of ${sse.requested} (${sse.failed} failed${sse.firstError ? `, first error: ${sse.firstError}` : ''}), opened in ${sse.openSeconds} s`,
    `- API RSS ${mib(sse.before.rss)} → ${mib(sse.after.rss)}: **${value(sse.rssPerStreamKiB)} KiB per stream** (JS heap ${value(sse.heapPerStreamKiB)} KiB per stream used; V8 holds ${mib(sse.after.heapTotal)} for ${mib(sse.after.heapUsed)} used)${sse.heapSnapshots ? ' (heap snapshots taken: RSS not meaningful)' : ''}`,
    `- delivery at ${sse.eventsPerSecond} events/s across the open streams: ${sse.received} of ${sse.sent} received, p50 ${value(sse.delivery.p50)} ms, p99 **${value(sse.delivery.p99)} ms**, max ${value(sse.delivery.max)} ms`,
    '',
  ];
}

function fileSearchSection(results: BenchResults): string[] {
  const { fileSearch } = results;
  if (!fileSearch) return [];
  const { ingestion } = fileSearch;
  return [
    `### file_search retrieval (${fileSearch.embedding}, one vector store, ${fileSearch.wordsPerChunk}-word chunks)`,
    '',
    `- ingestion (embedding + saveChunks, 100 chunks per file): **${value(ingestion.chunksPerSecond)} chunks/s** (${value(ingestion.megabytesPerSecond)} MB of text/s, ${ingestion.chunks} chunks in ${value(ingestion.seconds)} s)`,
    '',
    '| search (ms, query embedding included) | n | p50 | p95 | p99 | max | recall@10 |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...fileSearch.points.map(
      (point) =>
        `| ${point.chunks} chunks | ${point.search.count} | ${value(point.search.p50)} | ${value(point.search.p95)} | ${value(point.search.p99)} | ${value(point.search.max)} | ${value(point.recallAt10)} |`,
    ),
    '',
  ];
}

function fileIngestSection(results: BenchResults): string[] {
  const { fileIngest } = results;
  if (!fileIngest) return [];
  return [
    `### File ingestion (extract, chunk 800/400, embed with ${fileIngest.embedding}, store)`,
    '',
    '| format | files | size each | chunks | s | files/s | pages/s | MB/s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...fileIngest.points.map(
      (point) =>
        `| ${point.format}${point.pagesPerFile ? ` (${point.pagesPerFile} pages)` : ''} | ${point.files} | ${value(point.megabytesPerFile)} MB | ${point.chunks} | ${value(point.seconds)} | ${value(point.filesPerSecond)} | ${point.pagesPerSecond === null ? '' : value(point.pagesPerSecond)} | ${value(point.megabytesPerSecond)} |`,
    ),
    '',
  ];
}

export function renderReport(results: BenchResults): string {
  const { machine } = results;
  const lines = [
    `## Threadwork bench ${results.date}${results.quick ? ' (quick)' : ''}`,
    '',
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverageAtStart} at start; ${results.durationSeconds} s.`,
    '',
    '| figure | measured | floor | ratio | target | |',
    '|---|---:|---:|---:|---|---|',
    ...results.targets.map(targetRow),
    '',
    ...floorSection(results),
    ...latencySection(results),
    ...scalingSection(results),
    ...toolScalingSection(results),
    ...sseSection(results),
    ...scaleOutSection(results),
    ...fileSearchSection(results),
    ...fileIngestSection(results),
  ];
  if (results.profiled) {
    lines.push(
      `CPU profiles taken during a ${results.profiled.throughput.seconds} s throughput run (${value(results.profiled.throughput.runsPerSecond)} runs/s while profiled): ${results.profiled.profiles.map((profile) => profile.file).join(', ')}; summaries in the JSON.`,
      '',
    );
  }
  for (const error of results.errors) lines.push(`- **${error.scenario} failed**: ${error.message}`);
  return `${lines.join('\n')}\n`;
}

const LATEST_START = '<!-- bench:latest -->';
const LATEST_END = '<!-- /bench:latest -->';

/** Replaces what stands between the markers of the document with the report (headings one level down). */
export function updateDocument(file: string, results: BenchResults): void {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(LATEST_START);
  const end = text.indexOf(LATEST_END);
  if (start < 0 || end < start) throw new Error(`${file} has no ${LATEST_START} … ${LATEST_END} block`);
  const report = renderReport(results).replace(/^(#{2,3}) /gm, '#$1 ');
  writeFileSync(file, `${text.slice(0, start + LATEST_START.length)}\n\n${report}\n${text.slice(end)}`);
}

export function printReport(results: BenchResults): void {
  process.stdout.write(renderReport(results));
}

/** A progress line on stderr, so that stdout carries only the report. */
export function progress(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}
