/**
 * Counts how a consumer settles a batch's messages, without changing what it does: every `ack`,
 * `retry`, `ackAll` and `retryAll` goes through to the real batch. A message the consumer leaves
 * unsettled counts as acked when the handler returns and as retried when it throws (what the
 * platform does with it).
 */
export class QueueSettlement<Body = unknown> {
  readonly batch: MessageBatch<Body>;
  private readonly acked = new Set<string>();
  private readonly retried = new Set<string>();
  private readonly ids: string[];

  constructor(real: MessageBatch<Body>) {
    this.ids = real.messages.map((message) => message.id);
    const settle = (id: string, into: Set<string>) => {
      if (!this.acked.has(id) && !this.retried.has(id)) into.add(id);
    };
    const messages = real.messages.map((message) => {
      const counted = Object.create(message) as Message<Body>;
      Object.defineProperties(counted, {
        id: { value: message.id },
        body: { value: message.body },
        attempts: { value: message.attempts },
        timestamp: { value: message.timestamp },
        ack: {
          value: () => {
            settle(message.id, this.acked);
            message.ack();
          },
        },
        retry: {
          value: (options?: QueueRetryOptions) => {
            settle(message.id, this.retried);
            message.retry(options);
          },
        },
      });
      return counted;
    });
    this.batch = {
      queue: real.queue,
      metadata: real.metadata,
      messages,
      ackAll: () => {
        for (const id of this.ids) settle(id, this.acked);
        real.ackAll();
      },
      retryAll: (options?: QueueRetryOptions) => {
        for (const id of this.ids) settle(id, this.retried);
        real.retryAll(options);
      },
    } as unknown as MessageBatch<Body>;
  }

  /** What became of one message, once the handler has returned (`threw`: it did not). */
  outcomeOf(id: string, threw: boolean): "acked" | "retried" {
    if (this.acked.has(id)) return "acked";
    if (this.retried.has(id)) return "retried";
    return threw ? "retried" : "acked";
  }

  /** Acked and retried message counts, once the handler has returned (`threw`: it did not). */
  outcome(threw: boolean): { messages: number; acked: number; retried: number } {
    const unsettled = this.ids.length - this.acked.size - this.retried.size;
    return {
      messages: this.ids.length,
      acked: this.acked.size + (threw ? 0 : unsettled),
      retried: this.retried.size + (threw ? unsettled : 0),
    };
  }
}
