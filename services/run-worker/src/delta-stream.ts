// Text deltas on their way to the event bus: while one append is in flight the next deltas wait and go as one,
// so a fast model costs a few Redis round trips per message instead of one per token, and a slow one adds no delay.
export type DeltaSink = (text: string) => Promise<unknown>;

/**
 * The sink's appends must reach Redis in the order they are made (one connection does that): `flush` sends the
 * waiting text without waiting for the append in flight, so the end of an answer costs no extra round trip.
 */
export class DeltaStream {
  private waiting = '';
  private inFlight: Promise<void> | null = null;
  private readonly unsettled = new Set<Promise<void>>();
  private failure: unknown = null;

  /** `coalesce: false` sends every delta as its own event (one append each). */
  constructor(
    private readonly sink: DeltaSink,
    private readonly coalesce: boolean,
  ) {}

  push(text: string): void {
    if (text.length === 0) return;
    this.waiting += text;
    if (!this.coalesce || !this.inFlight) this.sendWaiting();
  }

  /** Sends what is waiting at once; resolves when every delta has been appended, rejects with the first failure. */
  async flush(): Promise<void> {
    if (this.waiting.length > 0) this.sendWaiting();
    await Promise.all(this.unsettled);
    if (this.failure) throw this.failure;
  }

  private sendWaiting(): void {
    const text = this.waiting;
    this.waiting = '';
    const append: Promise<void> = this.sink(text).then(
      () => this.afterAppend(append),
      (error: unknown) => {
        this.failure ??= error;
        this.afterAppend(append);
      },
    );
    this.inFlight = append;
    this.unsettled.add(append);
  }

  /** The latest append came back: what waited for it goes now, as one delta. */
  private afterAppend(append: Promise<void>): void {
    this.unsettled.delete(append);
    if (this.inFlight !== append) return;
    this.inFlight = null;
    if (this.waiting.length > 0) this.sendWaiting();
  }
}
