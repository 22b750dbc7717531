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

/**
 * One timer per heartbeat interval for every open stream of the process (not two timers per stream): each tick
 * writes a keep-alive comment, or ends a stream past its maximum lifetime. The timer stops when no stream is open.
 */
class HeartbeatTicker {
  private readonly streams = new Set<Beating>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs: number) {}

  add(stream: Beating): () => void {
    this.streams.add(stream);
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
    return () => {
      this.streams.delete(stream);
      if (this.streams.size > 0 || !this.timer) return;
      clearInterval(this.timer);
      this.timer = null;
    };
  }

  private tick(): void {
    const now = Date.now();
    for (const stream of this.streams) stream.beat(now);
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
