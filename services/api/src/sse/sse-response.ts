// An open SSE response: headers flushed at once, heartbeat comments, a maximum lifetime, and cleanup on close.
import type { Response } from 'express';

export interface SseOptions {
  heartbeatMs: number;
  maxLifetimeMs: number;
  /** The open-streams gauge (threadwork_sse_clients): up when a stream opens, down when it closes. */
  clients?: { inc(): void; dec(): void };
}

export interface SseStream {
  write(frame: string): void;
  end(): void;
}

/** Streams are spread over this many slices of the interval, so no tick writes to every stream at once. */
const SLICES = 20;

/**
 * One timer per heartbeat interval for every open stream of the process (not two timers per stream). The streams
 * are dealt into slices; each tick (every interval / SLICES) beats one slice: a keep-alive comment, or the end of a
 * stream past its maximum lifetime. The timer stops when no stream is open.
 */
class HeartbeatTicker {
  private readonly slices: Set<SseResponse>[] = Array.from({ length: SLICES }, () => new Set<SseResponse>());
  private next = 0;
  private dealt = 0;
  private open = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs: number) {}

  add(stream: SseResponse): void {
    (this.slices[this.dealt++ % SLICES] as Set<SseResponse>).add(stream);
    this.open += 1;
    this.timer ??= setInterval(() => this.tick(), Math.max(1, Math.floor(this.intervalMs / SLICES)));
  }

  remove(stream: SseResponse): void {
    if (!this.slices.some((slice) => slice.delete(stream))) return;
    this.open -= 1;
    if (this.open > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const slice = this.slices[this.next] as Set<SseResponse>;
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

/**
 * Thousands of these stay open at once, so the state of one is a single object (no closures per stream): the
 * response, when it must end, and what to run when it closes.
 */
class SseResponse implements SseStream {
  private closed = false;
  private corked = false;
  private readonly endsAt: number;

  constructor(
    private readonly res: Response,
    private readonly ticker: HeartbeatTicker,
    maxLifetimeMs: number,
    private readonly onClose: () => void,
    private readonly clients: SseOptions['clients'],
  ) {
    this.endsAt = Date.now() + maxLifetimeMs;
    clients?.inc();
  }

  /** Frames written in one tick (the events of one message) leave in one socket write. */
  write(frame: string): void {
    if (this.closed) return;
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      process.nextTick(uncorkStream, this);
    }
    this.res.write(frame);
  }

  uncork(): void {
    this.corked = false;
    this.res.uncork();
  }

  end(): void {
    if (this.closed) return;
    this.close();
    this.res.end();
  }

  beat(now: number): void {
    if (now >= this.endsAt) this.end();
    else this.res.write(': keep-alive\n\n');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ticker.remove(this);
    this.clients?.dec();
    this.onClose();
  }
}

function uncorkStream(stream: SseResponse): void {
  stream.uncork();
}

/** Sends the SSE headers and keeps the stream alive until it ends, its lifetime passes or the client leaves. */
export function openSse(res: Response, options: SseOptions, onClose: () => void = () => {}): SseStream {
  res.status(200);
  res.set({
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  // Nothing routes this request any more; req.next would keep the routers' per-request state as long as the stream.
  res.req.next = undefined;
  const ticker = tickerFor(options.heartbeatMs);
  const stream = new SseResponse(res, ticker, options.maxLifetimeMs, onClose, options.clients);
  ticker.add(stream);
  res.on('close', () => stream.close());
  // A client that left before the headers went out gets no second 'close' event.
  if (res.closed) stream.close();
  return stream;
}
