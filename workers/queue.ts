import { consumeDriftBatch, consumeDriftDeadLetters, type DriftMessage } from "./drift/drift-consumer";
import { consumeEraseBatch, consumeEraseDeadLetters } from "./erasure/erase-consumer";
import { consumeGenerateBatch, consumeGenerateDeadLetters } from "./jobs/generate-consumer";
import type { GenerateMessage } from "./jobs/run-job";
import { consumeMonitorRun, consumeMonitorRunDeadLetter } from "./monitors/monitor-run-consumer";
import { isMonitorRunMessage, type MonitorRunMessage } from "./monitors/monitor-run-message";
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
  if (name.startsWith("kgen-drift")) return consumeDriftQueue(batch, env, name.endsWith("-dlq"));
  // An unknown queue: keep the messages (they reach the dead-letter queue), never drop them.
  console.error(
    JSON.stringify({ level: "error", msg: "no consumer for queue", queue: name, messages: batch.messages.length }),
  );
  batch.retryAll({ delaySeconds: 60 });
}

/**
 * The drift queue carries two kinds of work: monitor runs (their messages say `kind: "monitor-run"`) and
 * queued drift checks. Each goes to its own consumer, the dead-letter queue's to theirs.
 */
async function consumeDriftQueue(batch: MessageBatch<unknown>, env: Env, deadLetters: boolean): Promise<void> {
  const checks: Message<DriftMessage>[] = [];
  for (const message of batch.messages) {
    if (!isMonitorRunMessage(message.body)) {
      checks.push(message as Message<DriftMessage>);
      continue;
    }
    const run = message as Message<MonitorRunMessage>;
    await (deadLetters ? consumeMonitorRunDeadLetter(run, env) : consumeMonitorRun(run, env));
  }
  if (checks.length === 0) return;
  const checkBatch = { queue: batch.queue, messages: checks } as unknown as MessageBatch<DriftMessage>;
  await (deadLetters ? consumeDriftDeadLetters(checkBatch, env) : consumeDriftBatch(checkBatch, env));
}
