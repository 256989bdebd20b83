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
  if (name.startsWith("kgen-drift")) return consumeDriftBatch(batch, env, name.endsWith("-dlq"));
  console.error(
    JSON.stringify({ level: "error", msg: "no consumer for queue", queue: name, messages: batch.messages.length }),
  );
  batch.retryAll({ delaySeconds: 60 });
}

/** The drift queue carries several kinds of work; each message says which. */
async function consumeDriftBatch(batch: MessageBatch<unknown>, env: Env, deadLetters: boolean): Promise<void> {
  for (const message of batch.messages) {
    if (isMonitorRunMessage(message.body)) {
      const run = message as Message<MonitorRunMessage>;
      await (deadLetters ? consumeMonitorRunDeadLetter(run, env) : consumeMonitorRun(run, env));
      continue;
    }
    console.error(JSON.stringify({ level: "error", msg: "unknown drift message", queue: batch.queue }));
    message.ack();
  }
}
