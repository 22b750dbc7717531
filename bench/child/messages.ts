// The IPC contract between the bench and the service processes it spawns.

export type ServiceName = 'api' | 'run-worker' | 'tool-worker';

export interface MemorySample {
  rss: number;
  heapUsed: number;
  /** What V8 holds for its heap, used or not (above heapUsed when its old space grew and was not given back). */
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export type ToChild = { type: 'memory' } | { type: 'heap-snapshot'; file: string } | { type: 'stop' };

export type FromChild =
  | { type: 'ready'; url: string | null }
  | { type: 'unavailable'; reason: string }
  | { type: 'memory'; memory: MemorySample }
  | { type: 'heap-snapshot'; file: string }
  | { type: 'stopped' };
