// Text deltas on their way to the event bus: while one append is in flight the next deltas wait and go as one,
// so a fast model costs a few Redis round trips per message instead of one per token, and a slow one adds no delay.
export type DeltaSink = (text: string) => Promise<unknown>;

export class DeltaStream {
  private waiting = '';
  private draining: Promise<void> | null = null;
  private readonly unbatched: Promise<unknown>[] = [];
  private failure: unknown = null;

  /** `coalesce: false` sends every delta as its own event (one append each). */
  constructor(
    private readonly sink: DeltaSink,
    private readonly coalesce: boolean,
  ) {}

  push(text: string): void {
    if (text.length === 0) return;
    if (!this.coalesce) {
      this.unbatched.push(this.sink(text).catch((error: unknown) => this.fail(error)));
      return;
    }
    this.waiting += text;
    this.draining ??= this.drain();
  }

  /** Resolves once every pushed delta has been appended; rejects with the first failure. */
  async flush(): Promise<void> {
    await Promise.all(this.unbatched);
    while (this.draining) await this.draining;
    if (this.failure) throw this.failure;
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const text = this.waiting;
      this.waiting = '';
      await this.sink(text).catch((error: unknown) => this.fail(error));
    }
    this.draining = null;
  }

  private fail(error: unknown): void {
    this.failure ??= error;
  }
}
