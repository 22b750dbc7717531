// The targets of issues 7 and 14, each checked against its floor measured in the same run.
import type { BenchResults, TargetCheck } from './results.js';
import { round } from './stats.js';

function check(
  figure: string,
  measured: number | undefined,
  unit: string,
  floor: number | undefined,
  target: string,
  isMet: (measured: number, ratio: number | null) => boolean,
): TargetCheck {
  if (measured === undefined || Number.isNaN(measured)) {
    return { figure, measured: null, unit, floor: floor ?? null, ratio: null, target, isMet: null };
  }
  const ratio = floor === undefined || floor === 0 ? null : round(measured / floor, 2);
  const isComparable = ratio !== null || !target.includes('×');
  return {
    figure,
    measured,
    unit,
    floor: floor ?? null,
    ratio,
    target,
    isMet: isComparable ? isMet(measured, ratio) : null,
  };
}

export function checkTargets(results: BenchResults): TargetCheck[] {
  const { floor, latency, toolHop, firstToken, sse } = results;
  const throughput = results.scaling?.find((point) => point.runWorkers === 1) ?? results.scaling?.[0];
  const measuredHop = toolHop?.status === 'measured' ? toolHop : undefined;
  const atMost = (limit: number) => (_: number, ratio: number | null) => ratio !== null && ratio <= limit;
  return [
    check(
      'throughput (runs/s, 1 run worker)',
      throughput?.runsPerSecond,
      'runs/s',
      floor?.noopJobsPerSecond,
      '≥ 0.10 × BullMQ c50 no-op jobs/s',
      (_, ratio) => ratio !== null && ratio >= 0.1,
    ),
    check(
      'latency p50 (POST → run.completed)',
      latency?.completed.p50,
      'ms',
      floor?.roundTrip.p50,
      '≤ 4 × BullMQ round trip p50',
      atMost(4),
    ),
    check(
      'throughput against the bare path',
      throughput?.runsPerSecond,
      'runs/s',
      floor?.pathRunsPerSecond,
      '≥ 0.40 × the bare path’s runs/s (issue 14)',
      (_, ratio) => ratio !== null && ratio >= 0.4,
    ),
    check(
      'latency p50 against the bare path',
      latency?.completed.p50,
      'ms',
      floor?.pathRoundTrip?.p50,
      '≤ 1.25 × the bare path’s p50 (issue 14)',
      atMost(1.25),
    ),
    check(
      'latency p99',
      latency?.completed.p99,
      'ms',
      floor?.roundTrip.p99,
      '≤ 6 × BullMQ round trip p99',
      atMost(6),
    ),
    check(
      'tool hop overhead p50',
      measuredHop?.extraP50,
      'ms',
      floor?.flowRoundTrip.p50,
      '≤ 1.5 × BullMQ flow round trip p50',
      atMost(1.5),
    ),
    check(
      'concurrent SSE streams on one API',
      sse?.open,
      'streams',
      undefined,
      '10,000',
      (open) => open >= 10_000,
    ),
    check(
      'memory per SSE stream (RSS)',
      sse?.rssPerStreamKiB,
      'KiB',
      undefined,
      '≤ 20 KiB',
      (kib) => kib <= 20,
    ),
    check('SSE delivery p99', sse?.delivery.p99, 'ms', undefined, '≤ 50 ms', (ms) => ms <= 50),
    check('time to first token added p50', firstToken?.added.p50, 'ms', undefined, '≤ 5 ms', (ms) => ms <= 5),
  ];
}
