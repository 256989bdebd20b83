import type { TenantSigningKey } from "../../shared/crypto/tenant-keys";
import { parseLock } from "../../shared/generate/lock";
import { PlanError } from "../../shared/generate/template-unit";
import { type PlanName, planLimits } from "../../shared/plans";
import { QuotaExceededError } from "../../shared/quota-errors";
import type { TenantSnapshot } from "../context";
import { database } from "../db/client";
import type { JobRow } from "../db/schema";
import { countQueueSent } from "../observability/operator-metrics";
import { parseTraceparent } from "../observability/trace-context";
import { problemFromDomainError } from "../problems/domain-problems";
import { HttpError } from "../problems/http-error";
import type { ArtifactRecord } from "../repository/artifact-index";
import { JobLedger, type JobProgress } from "../repository/jobs";
import { SigningKeyRing, signingKeysOf } from "../repository/signing-keys";
import { liveTenantOf, TenantDirectory } from "../repository/tenants";
import { tenantObject } from "../tenant-object-stub";
import { ArtifactWriter, tenantSigner } from "./artifact-writer";
import { carriedArtifacts, incrementalPlan } from "./incremental-plan";
import { jobFailureReason } from "./job-failure-reason";
import { jobRenderer, MAX_QUEUED_ARTIFACTS } from "./job-renderers";
import {
  type BatchMessage,
  completeJob,
  failJob,
  GENERATE_BATCH_SIZE,
  type GenerateMessage,
  isPlanMessage,
  type PlanMessage,
  releaseGeneration,
} from "./run-job";

/** Delay before the n-th retry: 2, 4, 8, … seconds, at most five minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(300, 2 ** Math.max(1, attempts));
/** Queue messages per sendBatch call (the platform's limit). */
const SEND_BATCH_LIMIT = 100;

interface OpenJob {
  tenant: TenantSnapshot;
  job: JobRow;
  /** The tenant's signing keys, to sign what the message writes. */
  signingKeys: TenantSigningKey[];
}

/** The tenant, job and signing keys a message is for, in one round trip to D1, while the job still has work to do. */
async function openJob(env: Env, message: GenerateMessage): Promise<OpenJob | undefined> {
  const db = database(env.DB);
  const [tenantRows, jobRows, keyRows] = await db.batch([
    new TenantDirectory(db).findByIdQuery(message.tenantId),
    new JobLedger(db, message.tenantId).findQuery(message.jobId),
    new SigningKeyRing(db, message.tenantId).allQuery(),
  ]);
  const tenant = liveTenantOf(tenantRows);
  if (!tenant) return undefined; // tenant deleted: nothing left to generate for
  const job = jobRows[0];
  if (!job || job.status === "completed" || job.status === "failed") return undefined;
  return { tenant, job, signingKeys: signingKeysOf(keyRows) };
}

/** A failure that repeats on every attempt (a problem we raise on purpose), as opposed to one worth retrying. */
const isDeterministicFailure = (error: unknown) =>
  error instanceof HttpError || problemFromDomainError(error) !== undefined;

/**
 * Plans a job: runs its templates' queries and counts its units, in this Worker. A plan no larger than the
 * plan's synchronous job size is rendered and written here in one batch, with every output conflict checked
 * across the whole plan; a larger one gets its total and is split into unit batches on the queue. A plan that
 * cannot be made (frontmatter, query, path conflicts, quotas) fails the job with that problem as its error
 * and gives the generation back. Idempotent: a job no longer queued is not planned again, and re-sent
 * batches write nothing twice.
 */
export async function processPlanMessage(env: Env, message: PlanMessage): Promise<void> {
  const open = await openJob(env, message);
  if (open?.job.status !== "queued") return;
  const { tenant, job } = open;
  const ledger = new JobLedger(database(env.DB), tenant.id);
  const lock = parseLock(job.lock);
  const limits = planLimits(tenant.plan as PlanName);
  try {
    const { renderer, source } = await jobRenderer(env, tenant, lock, job.params);
    const { units, batches } = await renderer.count(GENERATE_BATCH_SIZE, source);
    if (units > MAX_QUEUED_ARTIFACTS) {
      throw new PlanError("too-many-artifacts", `the plan exceeds ${MAX_QUEUED_ARTIFACTS} artifacts`);
    }
    const incremental = await incrementalPlan(env, tenant, job, lock, renderer, source, batches);
    if (incremental) {
      await ledger.update(job.id, { total: units, carried: incremental.carried, updatedAt: new Date().toISOString() });
      await sendBatches(
        env,
        incremental.batches.map(({ batch, carryOver }) => ({
          tenantId: tenant.id,
          jobId: job.id,
          batch,
          carryOver,
          traceparent: message.traceparent,
        })),
      );
      return;
    }
    if (units <= limits.syncJobArtifacts) {
      const rendered = await renderer.renderAll(source);
      // The total first: a job is complete once done + skipped reach it.
      await ledger.update(job.id, { total: units, updatedAt: new Date().toISOString() });
      const signer = await tenantSigner(env, tenant.id, open.signingKeys);
      const target = { key: "all", reservationKey: `${job.id}:bytes`, bytesLimit: limits.artifactBytes, total: units };
      await new ArtifactWriter(env, tenant, job.id, lock, job.lockHash, signer).write(
        rendered,
        target,
        new Date().toISOString(),
      );
      await completeJob(env, tenant, job.id, { traceparent: message.traceparent });
      return;
    }
    await ledger.update(job.id, { total: units, updatedAt: new Date().toISOString() });
    await sendBatches(
      env,
      batches.map((batch) => ({ tenantId: tenant.id, jobId: job.id, batch, traceparent: message.traceparent })),
    );
  } catch (error) {
    if (!isDeterministicFailure(error)) throw error;
    await failJob(env, tenant, job.id, jobFailureReason(error), message.traceparent);
    await releaseGeneration(env, tenant, job.id, job.createdAt);
  }
}

async function sendBatches(env: Env, bodies: BatchMessage[]): Promise<void> {
  const messages = bodies.map((body) => ({ body }));
  for (let start = 0; start < messages.length; start += SEND_BATCH_LIMIT) {
    const chunk = messages.slice(start, start + SEND_BATCH_LIMIT);
    await env.GENERATE_QUEUE.sendBatch(chunk);
    countQueueSent("generate", chunk.length);
  }
}

/** Names a unit batch of a job: its artifact-bytes reservation, its batch record and its progress event. */
const batchKeyOf = (message: BatchMessage) => `${message.jobId}:${message.batch.template}:${message.batch.start}`;

/**
 * One unit batch of a planned job, rendered in this Worker; of an incremental job, only its affected units are
 * rendered and the others carried over from the base job. Idempotent: artifact rows have ids derived from
 * (job, path), quota reservations and skipped counts are keyed by the batch, so a redelivered message changes
 * nothing.
 */
export async function processBatchMessage(env: Env, message: BatchMessage): Promise<void> {
  const open = await openJob(env, message);
  if (!open) return;
  const { tenant, job } = open;
  const lock = parseLock(job.lock);
  const { renderer, source } = await jobRenderer(env, tenant, lock, job.params);
  let rendered: Awaited<ReturnType<typeof renderer.renderBatch>>;
  let carried: ArtifactRecord[] = [];
  try {
    rendered = await renderer.renderBatch(message.batch, source, message.carryOver?.render);
    if (message.carryOver) carried = await carriedArtifacts(env, tenant, message.carryOver);
  } catch (error) {
    // A template or query problem fails this batch on every attempt: the job fails now, not after the retries.
    if (!isDeterministicFailure(error)) throw error;
    await failJob(env, tenant, job.id, jobFailureReason(error), message.traceparent);
    return;
  }
  const signer = await tenantSigner(env, tenant.id, open.signingKeys);
  const writer = new ArtifactWriter(env, tenant, job.id, lock, job.lockHash, signer);
  const batchKey = batchKeyOf(message);
  const target = {
    key: batchKey,
    reservationKey: batchKey,
    bytesLimit: planLimits(tenant.plan as PlanName).artifactBytes,
    total: job.total,
  };
  let progress: JobProgress;
  try {
    progress = await writer.write(rendered, target, new Date().toISOString(), carried);
  } catch (error) {
    if (!(error instanceof QuotaExceededError)) throw error;
    await failJob(env, tenant, job.id, jobFailureReason(error), message.traceparent);
    return;
  }
  // Only the last batch completes the job; the first one seen also marks it running.
  if (job.status === "queued" || progress.done + progress.skipped >= progress.total) {
    await completeJob(env, tenant, job.id, { acrossBatches: true, traceparent: message.traceparent });
  }
}

export function processGenerateMessage(env: Env, message: GenerateMessage): Promise<void> {
  return isPlanMessage(message) ? processPlanMessage(env, message) : processBatchMessage(env, message);
}

/**
 * Messages of one delivery handled at a time: enough to overlap their round trips, few enough that the
 * requests this isolate also serves are not queued behind many renders. Measured with
 * `npm run bench -- latency 5000` (under `wrangler dev`, where everything shares one thread): 4 to 6 keep
 * `GET /v1/me`'s p99 during a job within twice its idle p99; 10 did not.
 */
const CONCURRENT_MESSAGES = 6;

export async function consumeGenerateBatch(batch: MessageBatch<GenerateMessage>, env: Env): Promise<void> {
  // Messages are independent (a plan, unit batches): a few at a time, each acked or retried on its own.
  let next = 0;
  const worker = async () => {
    for (let message = batch.messages[next++]; message; message = batch.messages[next++]) {
      await consumeGenerateMessage(message, env);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_MESSAGES, batch.messages.length) }, worker));
}

async function consumeGenerateMessage(message: Message<GenerateMessage>, env: Env): Promise<void> {
  try {
    await processGenerateMessage(env, message.body);
    message.ack();
  } catch (error) {
    console.error(
      JSON.stringify({
        level: "error",
        msg: "generate batch failed",
        traceId: parseTraceparent(message.body.traceparent)?.traceId,
        jobId: message.body.jobId,
        attempts: message.attempts,
        reason: String(error),
        stack: (error as Error)?.stack,
      }),
    );
    await recordLastError(env, message.body, jobFailureReason(error));
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

/** Messages that used up their retries: the job fails with the last reason recorded. */
export async function consumeGenerateDeadLetters(batch: MessageBatch<GenerateMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const tenant = await new TenantDirectory(database(env.DB)).findById(message.body.tenantId);
    if (tenant) {
      const job = await new JobLedger(database(env.DB), tenant.id).find(message.body.jobId);
      const reason = job?.error ?? "a batch could not be generated";
      await failJob(
        env,
        tenant,
        message.body.jobId,
        `dead-lettered after retries: ${reason}`,
        message.body.traceparent,
      );
      // A job whose plan never ran delivered nothing: its generation is given back.
      if (job && isPlanMessage(message.body)) await releaseGeneration(env, tenant, job.id, job.createdAt);
      // A batch that never wrote its rows holds its bytes reservation: given back, or the quota keeps it forever.
      if (job && !isPlanMessage(message.body)) {
        await tenantObject(env, tenant).artifactReleaseUnwrittenBatch(job.id, batchKeyOf(message.body));
      }
    }
    message.ack();
  }
}

async function recordLastError(env: Env, message: GenerateMessage, reason: string): Promise<void> {
  try {
    await new JobLedger(database(env.DB), message.tenantId).update(message.jobId, {
      error: reason.slice(0, 2000),
      updatedAt: new Date().toISOString(),
    });
  } catch {
    // The retry still happens; losing the reason only makes the eventual failure less specific.
  }
}
