/** Where a flush may keep running after the response: an execution context, or a Durable Object's state. */
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * One pending flush at a time, started `delayMs` after the first write that finds none scheduled, so the
 * writes of that window go out together. Shared by the isolate's batches (metrics, request counts).
 */
export class DelayedFlush {
  private flushing: Promise<void> | undefined;

  /** Schedules `flush` unless one is already scheduled or running; the context keeps it alive. */
  schedule(ctx: WaitUntil, delayMs: number, flush: () => Promise<void>): void {
    if (this.flushing) return;
    const flushing = new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(flush).finally(() => {
      this.flushing = undefined;
    });
    this.flushing = flushing;
    ctx.waitUntil(flushing);
  }

  /** Settles when no flush is scheduled or running. */
  async idle(): Promise<void> {
    await this.flushing;
  }
}
