// An open SSE response: headers flushed at once, heartbeat comments, a maximum lifetime, and cleanup on close.
import type { Response } from 'express';

export interface SseOptions {
  heartbeatMs: number;
  maxLifetimeMs: number;
}

export interface SseStream {
  write(frame: string): void;
  end(): void;
  onClose(cleanup: () => void): void;
  readonly closed: boolean;
}

interface Beating {
  beat(now: number): void;
}

/** Streams are spread over this many slices of the interval, so no tick writes to every stream at once. */
const SLICES = 20;

/**
 * One timer per heartbeat interval for every open stream of the process (not two timers per stream). The streams
 * are dealt into slices; each tick (every interval / SLICES) beats one slice: a keep-alive comment, or the end of a
 * stream past its maximum lifetime. The timer stops when no stream is open.
 */
class HeartbeatTicker {
  private readonly slices: Set<Beating>[] = Array.from({ length: SLICES }, () => new Set<Beating>());
  private next = 0;
  private dealt = 0;
  private open = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs: number) {}

  add(stream: Beating): () => void {
    const slice = this.slices[this.dealt++ % SLICES] as Set<Beating>;
    slice.add(stream);
    this.open += 1;
    this.timer ??= setInterval(() => this.tick(), Math.max(1, Math.floor(this.intervalMs / SLICES)));
    return () => {
      if (!slice.delete(stream)) return;
      this.open -= 1;
      if (this.open > 0 || !this.timer) return;
      clearInterval(this.timer);
      this.timer = null;
    };
  }

  private tick(): void {
    const slice = this.slices[this.next] as Set<Beating>;
    this.next = (this.next + 1) % SLICES;
    const now = Date.now();
    for (const stream of slice) stream.beat(now);
  }
}

const tickers = new Map<number, HeartbeatTicker>();

function tickerFor(intervalMs: number): HeartbeatTicker {
  let ticker = tickers.get(intervalMs);
  if (!ticker) {
    ticker = new HeartbeatTicker(intervalMs);
    tickers.set(intervalMs, ticker);
  }
  return ticker;
}

export function openSse(res: Response, options: SseOptions): SseStream {
  res.status(200);
  res.set({
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  const cleanups: (() => void)[] = [];
  let closed = false;
  const endsAt = Date.now() + options.maxLifetimeMs;
  const stopBeating = tickerFor(options.heartbeatMs).add({
    beat(now) {
      if (now >= endsAt) stream.end();
      else res.write(': keep-alive\n\n');
    },
  });
  function close() {
    if (closed) return;
    closed = true;
    stopBeating();
    for (const cleanup of cleanups) cleanup();
  }
  res.on('close', close);
  // A client that left before the headers went out gets no second 'close' event.
  if (res.closed) close();
  const stream: SseStream = {
    write(frame) {
      if (!closed) res.write(frame);
    },
    end() {
      if (closed) return;
      close();
      res.end();
    },
    onClose(cleanup) {
      if (closed) cleanup();
      else cleanups.push(cleanup);
    },
    get closed() {
      return closed;
    },
  };
  return stream;
}
