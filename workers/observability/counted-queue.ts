import { countQueueSent, type QueueRole } from "./operator-metrics";

/** The producer side of a queue binding. */
export interface QueueProducer<Body> {
  send(body: Body, options?: QueueSendOptions): Promise<unknown>;
  sendBatch(messages: Iterable<MessageSendRequest<Body>>, options?: QueueSendBatchOptions): Promise<unknown>;
}

/**
 * A producer that counts what it sent (kgen_queue_messages_sent_total, the base of the queue depth),
 * for code that holds a queue binding for a long time, like the tenant object. `afterSend` schedules
 * the metrics flush in the caller's context.
 */
export function countedQueue<Body>(
  queue: QueueProducer<Body>,
  role: QueueRole,
  afterSend: () => void = () => {},
): QueueProducer<Body> {
  return {
    async send(body, options) {
      const sent = await queue.send(body, options);
      countQueueSent(role, 1);
      afterSend();
      return sent;
    },
    async sendBatch(messages, options) {
      const list = [...messages];
      const sent = await queue.sendBatch(list, options);
      countQueueSent(role, list.length);
      afterSend();
      return sent;
    },
  };
}
