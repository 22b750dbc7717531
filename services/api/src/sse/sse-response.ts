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
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), options.heartbeatMs);
  const lifetime = setTimeout(() => stream.end(), options.maxLifetimeMs);
  function close() {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    clearTimeout(lifetime);
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
