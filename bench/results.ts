// The shape of bench/results/<date>.json.
import type { FloorResult } from './floor.js';
import type { BenchOptions } from './options.js';
import type { ProfileSummary } from './profile.js';
import type { FileIngestResult } from './scenarios/file-ingest.js';
import type { FileSearchResult } from './scenarios/file-search.js';
import type { FirstTokenResult } from './scenarios/first-token.js';
import type { LatencyResult } from './scenarios/latency.js';
import type { SandboxResult } from './scenarios/sandbox.js';
import type { ScaleOutResult } from './scenarios/scale-out.js';
import type { SseFanOutResult } from './scenarios/sse-fanout.js';
import type { ThroughputResult } from './scenarios/throughput.js';
import type { ToolHopResult } from './scenarios/tool-hop.js';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  /** 1-minute load average when the bench started: other work on the machine skews every figure. */
  loadAverageAtStart: number;
}

export interface ScalingPoint extends ThroughputResult {
  runWorkers: number;
}

export interface TargetCheck {
  figure: string;
  measured: number | null;
  unit: string;
  floor: number | null;
  ratio: number | null;
  target: string;
  isMet: boolean | null;
}

export interface BenchResults {
  date: string;
  startedAt: string;
  durationSeconds: number;
  quick: boolean;
  machine: MachineInfo;
  options: Omit<BenchOptions, 'resultsDir' | 'databaseServerUrl' | 'redisUrl'>;
  floor?: FloorResult;
  latency?: LatencyResult;
  toolHop?: ToolHopResult;
  firstToken?: FirstTokenResult;
  scaling?: ScalingPoint[];
  toolScaling?: Array<ScalingPoint & { toolWorkers: number }>;
  profiled?: { throughput: ThroughputResult; profiles: ProfileSummary[] };
  sse?: SseFanOutResult;
  /** Runs per second on two APIs and two run workers over a Redis Cluster and pgbouncer, beside one of each. */
  scaleOut?: ScaleOutResult;
  fileSearch?: FileSearchResult;
  sandbox?: SandboxResult;
  fileIngest?: FileIngestResult;
  targets: TargetCheck[];
  errors: Array<{ scenario: string; message: string }>;
}
