// Process lifecycle: one ordered, idempotent shutdown with a deadline; a second signal exits at once.
import type { Logger } from 'pino';
import { type Config, loadConfig } from './config.js';
import { createLogger } from './logger.js';

export interface Stoppable {
  close(): Promise<void>;
}

/**
 * The message `npm start`'s supervisor sends a child over its IPC channel to ask for a graceful stop: a SIGINT may
 * reach the supervisor alone, and a child that had it from the terminal already must not take it as a second signal.
 */
export const STOP_REQUEST = 'threadwork:stop';

export function handleSignals(service: Stoppable, log: Logger, timeoutMs: number): void {
  /**
   * How the shutdown began. A request may come before the SIGINT that Ctrl+C gave this process too: the first signal
   * after a request is that one, not a second.
   */
  let begun: 'signal' | 'request' | null = null;
  const begin = (reason: string) => {
    log.info({ signal: reason }, 'shutting down');
    const deadline = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown deadline passed: exiting');
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    if (begun === null) begin(signal);
    else if (begun === 'signal') {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    begun = 'signal';
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  if (process.send) {
    // Started by `npm start` with an IPC channel: when that parent goes away, shut down rather than linger.
    process.on('disconnect', () => onSignal('parent exited'));
    process.on('message', (message) => {
      if (message !== STOP_REQUEST || begun !== null) return;
      begun = 'request';
      begin('stop requested by npm start');
    });
  }
}

/** Runs the closers in order once, whatever happens to each; later calls get the same promise. */
export function orderedShutdown(steps: Array<() => Promise<unknown>>, log: Logger): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => {
    done ??= (async () => {
      for (const step of steps) {
        await step().catch((error: unknown) => log.warn({ err: error }, 'shutdown step failed'));
      }
    })();
    return done;
  };
}

/** Resolves with the promise's value, or rejects after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** What every service's settings hold for its logger and its shutdown. */
type ServiceSettings = Pick<Config, 'LOG_LEVEL' | 'PRETTY_LOGS' | 'SHUTDOWN_TIMEOUT_MS'>;

/** A service process's whole main: config, logger, start, signals; a failed start is one fatal log line and exit 1. */
export async function runService(
  name: string,
  start: (config: Config, log: Logger) => Promise<Stoppable>,
): Promise<void> {
  await runServiceWith(name, () => loadConfig(), start);
}

/** `runService` for a service with settings of its own (the sandbox worker reads only its own variables). */
export async function runServiceWith<C extends ServiceSettings>(
  name: string,
  load: () => C,
  start: (config: C, log: Logger) => Promise<Stoppable>,
): Promise<void> {
  const config = load();
  const log = createLogger({ name, level: config.LOG_LEVEL, pretty: config.PRETTY_LOGS });
  try {
    const service = await start(config, log);
    handleSignals(service, log, config.SHUTDOWN_TIMEOUT_MS);
  } catch (error) {
    log.fatal(
      { err: error },
      `${name} failed to start: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  }
}
