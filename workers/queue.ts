import { consumeDriftBatch, consumeDriftDeadLetters, type DriftMessage } from "./drift/drift-consumer";
import { consumeEraseBatch, consumeEraseDeadLetters } from "./erasure/erase-consumer";
import { consumeGenerateBatch, consumeGenerateDeadLetters } from "./jobs/generate-consumer";
import type { GenerateMessage } from "./jobs/run-job";
import { consumeMonitorRun, consumeMonitorRunDeadLetter } from "./monitors/monitor-run-consumer";
import { isMonitorRunMessage, type MonitorRunMessage } from "./monitors/monitor-run-message";
import { metricsBatch } from "./observability/metrics-batch";
import { observeQueueBatch } from "./observability/operator-metrics";
import { QueueSettlement } from "./observability/queue-settlement";
import { parseTraceparent } from "./observability/trace-context";
import { consumeDeliverBatch, consumeDeliverDeadLetters } from "./webhooks/deliver-consumer";

/**
 * Every batch, whatever its queue: dispatched to its consumer, then measured (one data point, the
 * acked/retried/dead-lettered counters) whether the consumer returned or threw. `ctx` schedules the
 * metrics flush; without one the observations wait for the isolate's next flush.
 */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx?: { waitUntil(promise: Promise<unknown>): void },
): Promise<void> {
  const started = Date.now();
  const settlement = new QueueSettlement(batch);
  let threw = true;
  try {
    await dispatchQueue(settlement.batch, env);
    threw = false;
  } finally {
    try {
      observeQueueBatch(env, {
        queue: batch.queue,
        deadLetters: batch.queue.endsWith("-dlq"),
        ...settlement.outcome(threw),
        durationMs: Date.now() - started,
      });
      logMessages(batch, settlement, threw);
      // At once, not after the metrics delay: an invocation lasts until its waitUntil settles, and the
      // queue's next delivery can wait for it (always under wrangler dev), so a timer here would hold a
      // job's unit batches back by the whole delay. A flush another context already scheduled carries
      // these observations instead.
      if (ctx) metricsBatch.scheduleFlush(env, ctx, 0);
    } catch (error) {
      console.error(JSON.stringify({ level: "error", msg: "queue metrics failed", error: String(error) }));
    }
  }
}

/**
 * One log line per message with the trace id its sender put in it, so the work a request caused
 * (a job's plan and unit batches, a drift check, a delivery, an erasure) can be followed in the logs.
 */
function logMessages(batch: MessageBatch<unknown>, settlement: QueueSettlement, threw: boolean): void {
  for (const message of batch.messages) {
    const body = (typeof message.body === "object" && message.body !== null ? message.body : {}) as Record<
      string,
      unknown
    >;
    console.log(
      JSON.stringify({
        level: "info",
        msg: "queue message",
        queue: batch.queue,
        traceId: parseTraceparent(body.traceparent)?.traceId,
        messageId: message.id,
        attempts: message.attempts,
        kind: typeof body.kind === "string" ? body.kind : undefined,
        tenant: typeof body.tenantId === "string" ? body.tenantId : undefined,
        jobId: typeof body.jobId === "string" ? body.jobId : undefined,
        outcome: settlement.outcomeOf(message.id, threw),
      }),
    );
  }
}

/** Queue names carry an environment suffix (`kgen-generate-staging`); dispatch on what they are. */
async function dispatchQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
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
