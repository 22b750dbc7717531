// The IPC contract between the bench and its SSE client process (bench/sse-clients.ts).
import type { LatencySummary } from './stats.js';

export type ToSseClients =
  | { type: 'open'; count: number; concurrency: number; timeoutMs: number }
  | { type: 'close-all' }
  | { type: 'measure'; rate: number; seconds: number }
  | { type: 'exit' };

export type FromSseClients =
  | { type: 'ready' }
  | { type: 'opened'; open: number; failed: number; seconds: number; firstError: string | null }
  | { type: 'closed' }
  | {
      type: 'measured';
      sent: number;
      received: number;
      /** Published (timestamp inside the event) → frame parsed by the client, same process and clock. */
      delivery: LatencySummary;
    };
