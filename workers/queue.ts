import { consumeDriftBatch, consumeDriftDeadLetters, type DriftMessage } from "./drift/drift-consumer";
import { consumeEraseBatch, consumeEraseDeadLetters } from "./erasure/erase-consumer";
import { consumeGenerateBatch, consumeGenerateDeadLetters } from "./jobs/generate-consumer";
import type { GenerateMessage } from "./jobs/run-job";
import { consumeDeliverBatch, consumeDeliverDeadLetters } from "./webhooks/deliver-consumer";

/** Queue names carry an environment suffix (`kgen-generate-staging`); dispatch on what they are. */
export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const name = batch.queue;
  if (name.startsWith("kgen-generate")) {
    if (name.endsWith("-dlq")) return consumeGenerateDeadLetters(batch as MessageBatch<GenerateMessage>, env);
    return consumeGenerateBatch(batch as MessageBatch<GenerateMessage>, env);
  }
  if (name.startsWith("kgen-deliver")) {
    if (name.endsWith("-dlq")) return consumeDeliverDeadLetters(batch, env);
    return consumeDeliverBatch(batch, env);
  }
  if (name.startsWith("kgen-erase")) {
    if (name.endsWith("-dlq")) return consumeEraseDeadLetters(batch, env);
    return consumeEraseBatch(batch, env);
  }
  if (name.startsWith("kgen-drift")) {
    if (name.endsWith("-dlq")) return consumeDriftDeadLetters(batch as MessageBatch<DriftMessage>, env);
    return consumeDriftBatch(batch as MessageBatch<DriftMessage>, env);
  }
  // An unknown queue: keep the messages (they reach the dead-letter queue), never drop them.
  console.error(
    JSON.stringify({ level: "error", msg: "no consumer for queue", queue: name, messages: batch.messages.length }),
  );
  batch.retryAll({ delaySeconds: 60 });
}
