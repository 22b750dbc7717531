// The sessions one worker holds, by thread: a thread's calls take turns in its session; idle sessions end.
import type { PythonSession } from './python-session.js';

interface Held {
  session: PythonSession;
  lastUsedAt: number;
  isBusy: boolean;
}

export interface SessionPoolOptions {
  start: () => Promise<PythonSession>;
  idleMs: number;
  maxSessions: number;
  /** Told when a session ends (idle, evicted, killed or closed), so that its record can go. */
  onEnded: (threadId: string) => Promise<void>;
  now?: () => number;
}

export class SessionPool {
  private readonly held = new Map<string, Held>();
  /** Each thread's calls, chained: one runs at a time in a session. */
  private readonly turns = new Map<string, Promise<unknown>>();

  constructor(private readonly options: SessionPoolOptions) {}

  get size(): number {
    return this.held.size;
  }

  /** Runs `work` in the thread's session, started first (`isNew`) when the thread has none alive. */
  use<T>(threadId: string, work: (session: PythonSession, isNew: boolean) => Promise<T>): Promise<T> {
    const previous = this.turns.get(threadId) ?? Promise.resolve();
    const turn = previous.catch(() => undefined).then(() => this.take(threadId, work));
    const settled = turn.catch(() => undefined);
    this.turns.set(threadId, settled);
    settled.then(() => {
      if (this.turns.get(threadId) === settled) this.turns.delete(threadId);
    });
    return turn;
  }

  /** Ends the thread's session (it timed out, exited, or answered too much). */
  async end(threadId: string): Promise<void> {
    const held = this.held.get(threadId);
    if (!held) return;
    this.held.delete(threadId);
    held.session.kill();
    await this.options.onEnded(threadId);
  }

  /** Ends the sessions idle for longer than the idle time; answers how many. */
  async endIdle(): Promise<number> {
    const now = this.clock();
    const idle = [...this.held].filter(
      ([, held]) => !held.isBusy && now - held.lastUsedAt >= this.options.idleMs,
    );
    await Promise.all(idle.map(([threadId]) => this.end(threadId)));
    return idle.length;
  }

  /** Kills every session; their records stay, so that the next call of each thread says its session was lost. */
  closeAll(): void {
    for (const held of this.held.values()) held.session.kill();
    this.held.clear();
  }

  private clock(): number {
    return this.options.now?.() ?? Date.now();
  }

  private async take<T>(
    threadId: string,
    work: (session: PythonSession, isNew: boolean) => Promise<T>,
  ): Promise<T> {
    let held = this.held.get(threadId);
    if (held && !held.session.isAlive) await this.end(threadId);
    held = this.held.get(threadId);
    const isNew = held === undefined;
    if (!held) {
      await this.makeRoom();
      held = { session: await this.options.start(), lastUsedAt: this.clock(), isBusy: false };
      this.held.set(threadId, held);
    }
    held.isBusy = true;
    try {
      return await work(held.session, isNew);
    } finally {
      held.isBusy = false;
      held.lastUsedAt = this.clock();
    }
  }

  /** At the most sessions, the one idle longest ends. */
  private async makeRoom(): Promise<void> {
    if (this.held.size < this.options.maxSessions) return;
    const idle = [...this.held].filter(([, held]) => !held.isBusy);
    idle.sort(([, a], [, b]) => a.lastUsedAt - b.lastUsedAt);
    const oldest = idle[0];
    if (oldest) await this.end(oldest[0]);
  }
}
