// What a worker holds while it drives a run: the numbering of the run's events, the run's lease (renewed until
// released) and one abort signal, fired when the run is cancelled or the lease is lost.
import { hostname } from 'node:os';
import {
  type Config,
  type Db,
  type EventBus,
  type Lease,
  type Logger,
  RunEventWriter,
  type RunRow,
  renewLease,
} from '@threadwork/shared';
import type { CancelSignals } from './cancel-watch.js';

export interface HoldDeps {
  db: Db;
  events: EventBus;
  cancels: CancelSignals;
  config: Pick<Config, 'RUN_LEASE_MS'>;
  log: Logger;
  now?: () => Date;
}

/** This process's name on the leases it takes. */
export const workerId = `${hostname()}:${process.pid}`;

export function newLease(deps: Pick<HoldDeps, 'config' | 'now'>): Lease {
  const now = deps.now?.() ?? new Date();
  return { owner: workerId, until: new Date(now.getTime() + deps.config.RUN_LEASE_MS) };
}

/** Why a held run's work stopped before it finished. */
export type AbortReason = 'cancelled' | 'lease_lost';

export class HeldRun {
  readonly writer: RunEventWriter;
  private readonly controller = new AbortController();
  private readonly stopWatching: () => void;
  private readonly renewal: NodeJS.Timeout;
  private reason: AbortReason | null = null;

  /** Holds `run`, which the caller has just claimed or taken with a lease of this worker. */
  constructor(
    private readonly deps: HoldDeps,
    readonly run: RunRow,
  ) {
    this.writer = new RunEventWriter(deps.events, run, run.eventSeq);
    const watch = deps.cancels.watch(run.id);
    this.stopWatching = watch.stop;
    watch.signal.addEventListener('abort', () => this.abort('cancelled'), { once: true });
    if (watch.signal.aborted) this.abort('cancelled');
    this.renewal = setInterval(
      () => void this.renew(),
      Math.max(1, Math.floor(deps.config.RUN_LEASE_MS / 3)),
    );
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get abortReason(): AbortReason | null {
    return this.reason;
  }

  /** Stops renewing and watching; the run's last write (or the tools it dispatched) let go of the lease. */
  release(): void {
    clearInterval(this.renewal);
    this.stopWatching();
  }

  private abort(reason: AbortReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller.abort(new Error(`run ${reason}`));
  }

  private async renew(): Promise<void> {
    try {
      const held = await renewLease(this.deps.db, this.run.id, newLease(this.deps), this.writer.publishedSeq);
      if (held) return;
      this.deps.log.warn({ runId: this.run.id }, 'lease lost: another actor settled the run');
      this.abort('lease_lost');
    } catch (error) {
      // Postgres away: keep driving; if the lease runs out meanwhile, the sweeper settles the run.
      this.deps.log.warn({ err: error, runId: this.run.id }, 'could not renew lease');
    }
  }
}
