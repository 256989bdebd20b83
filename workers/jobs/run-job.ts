import type { JobPin, PlanMessage, StartedJob } from "../../durable-objects/tenant/job-start";
import { type RpcOutcome, unwrap } from "../../durable-objects/tenant/rpc-outcome";
import { type Lock, lockHash } from "../../shared/generate/lock";
import { checkCaseCollisions, PathCollisionError } from "../../shared/generate/path-collisions";
import type { UnitBatch } from "../../shared/generate/plan";
import { monthPeriod, type PlanName, planLimits } from "../../shared/plans";
import type { WriteModeName } from "../../shared/template/frontmatter/parse-frontmatter";
import type { TenantSnapshot } from "../context";
import { database } from "../db/client";
import type { JobRow } from "../db/schema";
import { observeJob } from "../observability/operator-metrics";
import { parseTraceparent, type TracedMessage } from "../observability/trace-context";
import { HttpError } from "../problems/http-error";
import { ArtifactIndex } from "../repository/artifact-index";
import { JobLedger } from "../repository/jobs";
import { tenantObject } from "../tenant-object-stub";
import type { CarryOver } from "./incremental-plan";
import { assertInlineContentSize } from "./inline-content";
import { jobRenderer } from "./job-renderers";

/** Units per queue message. */
export const GENERATE_BATCH_SIZE = 50;

/** `generate` queue: plan a job (run its queries, count its units), then render it batch by batch. */
export type { PlanMessage };

export interface BatchMessage extends TracedMessage {
  tenantId: string;
  jobId: string;
  batch: UnitBatch;
  /** Of an incremental job: the batch's units to render and the paths it carries over from the base job. */
  carryOver?: CarryOver;
}

export type GenerateMessage = PlanMessage | BatchMessage;

export const isPlanMessage = (message: GenerateMessage): message is PlanMessage =>
  (message as PlanMessage).kind === "plan";

export interface PlannedArtifactView {
  path: string;
  sha256: string;
  size: number;
  mode: WriteModeName;
  chmod: string | null;
  template: { path: string; hash: string };
  content?: string;
}

export interface DryRunPlan {
  dryRun: true;
  lock: Lock;
  lockHash: string;
  units: number;
  artifacts: PlannedArtifactView[] | null;
  skipped: number | null;
}

/**
 * The plan without writing, in this request (a dry run is the one synchronous form of a job): the artifacts
 * it would produce, with their content on request (at most MAX_INLINE_CONTENT_BYTES in all), or only their
 * count for plans larger than the plan's synchronous job size. Rendered here, reading the graph version
 * from the tenant's object in bounded query batches.
 */
export async function planOnly(
  env: Env,
  tenant: TenantSnapshot,
  lock: Lock,
  params: Record<string, unknown>,
  options: { withContent?: boolean } = {},
): Promise<DryRunPlan> {
  const syncLimit = planLimits(tenant.plan as PlanName).syncJobArtifacts;
  const { renderer, source } = await jobRenderer(env, tenant, lock, params);
  const { units } = await renderer.count(GENERATE_BATCH_SIZE, source);
  const base = { dryRun: true as const, lock, lockHash: await lockHash(lock), units };
  if (units > syncLimit) {
    if (options.withContent) {
      throw new HttpError(
        422,
        "content-too-large",
        "Rendered content too large",
        `The plan has ${units} units; content is returned for plans of at most ${syncLimit} units. Start the job and read its artifacts instead.`,
        { extensions: { limit: syncLimit, units } },
      );
    }
    return { ...base, artifacts: null, skipped: null };
  }
  const rendered = await renderer.renderAll(source);
  if (options.withContent) assertInlineContentSize(rendered.artifacts.map((artifact) => artifact.size));
  return {
    ...base,
    artifacts: rendered.artifacts.map((artifact) => ({
      path: artifact.path,
      sha256: artifact.sha256,
      size: artifact.size,
      mode: artifact.mode,
      chmod: artifact.chmod ?? null,
      template: artifact.template,
      ...(options.withContent ? { content: artifact.content } : {}),
    })),
    skipped: rendered.skipped.length,
  };
}

/**
 * Starts a job and answers at once: one call to the tenant's object pins the graph version (the lock),
 * reserves the month's generation, creates the job, queued, and sends the `plan` message that does the
 * rest on the `generate` queue (generate-consumer.ts). Nothing of the plan runs in the request.
 */
export async function startJob(
  env: Env,
  tenant: TenantSnapshot,
  pin: JobPin,
  params: Record<string, unknown>,
  traceparent?: string,
): Promise<JobRow> {
  const now = new Date();
  const jobId = `job_${crypto.randomUUID().replaceAll("-", "")}`;
  const period = monthPeriod(now.getTime());
  const stub = tenantObject(env, tenant);
  const started = await stub.jobStart({
    tenantId: tenant.id,
    jobId,
    createdAt: now.toISOString(),
    params,
    pin,
    generations: { limit: planLimits(tenant.plan as PlanName).generationsPerMonth, period },
    traceparent,
  });
  // The stub's inferred type loses the row's shape (RPC serialization types): it is the method's own.
  const job = unwrap(started as RpcOutcome<StartedJob>);
  return { ...job, tenantId: tenant.id };
}

/** Gives a job's generation of the month back (its plan failed: nothing was delivered). */
export async function releaseGeneration(
  env: Env,
  tenant: TenantSnapshot,
  jobId: string,
  createdAt: string,
): Promise<void> {
  await tenantObject(env, tenant).releaseQuota({
    counter: "generations",
    amount: 1,
    period: monthPeriod(Date.parse(createdAt)),
    idempotencyKey: `${jobId}:generation:release`,
  });
}

/**
 * Marks the job completed once every unit is written or skipped (idempotent). A job written in several
 * batches is first checked for output paths that collide on case-insensitive file systems across its
 * batches (each batch was checked on its own): such a job fails instead.
 */
export async function completeJob(
  env: Env,
  tenant: TenantSnapshot,
  jobId: string,
  options: { acrossBatches?: boolean; traceparent?: string } = {},
): Promise<boolean> {
  const ledger = new JobLedger(database(env.DB), tenant.id);
  const job = await ledger.find(jobId);
  if (!job || job.status === "completed" || job.status === "failed") return false;
  if (job.done + job.skipped < job.total) {
    if (job.status === "queued") await ledger.update(jobId, { status: "running", updatedAt: new Date().toISOString() });
    return false;
  }
  if (options.acrossBatches) {
    const paths = await new ArtifactIndex(env, tenant).outputPathsOf(jobId);
    try {
      checkCaseCollisions(
        paths.map(({ path, templatePath }) => ({ path, template: { path: templatePath }, rowIndex: null })),
      );
    } catch (error) {
      if (!(error instanceof PathCollisionError)) throw error;
      await failJob(env, tenant, jobId, error.message);
      return false;
    }
  }
  const now = new Date();
  const { changed } = await tenantObject(env, tenant).recordJobChange(
    tenant.id,
    {
      kind: "transition",
      jobId,
      from: ["queued", "running"],
      // A batch's last retry reason is history once every unit is written.
      changes: { status: "completed", error: null, updatedAt: now.toISOString() },
    },
    {
      type: "job.completed",
      data: { jobId, artifacts: job.done, skipped: job.skipped, bytes: job.bytes, carried: job.carried },
      createdAt: now.getTime(),
      idempotencyKey: `${jobId}:completed`,
    },
  );
  if (changed) {
    noteJobFinished(env, tenant, "completed", job, now, options.traceparent);
  }
  return changed;
}

export async function failJob(
  env: Env,
  tenant: TenantSnapshot,
  jobId: string,
  reason: string,
  traceparent?: string,
): Promise<void> {
  const ledger = new JobLedger(database(env.DB), tenant.id);
  const job = await ledger.find(jobId);
  if (!job || job.status === "completed" || job.status === "failed") return;
  const now = new Date();
  const { changed } = await tenantObject(env, tenant).recordJobChange(
    tenant.id,
    {
      kind: "transition",
      jobId,
      from: ["queued", "running"],
      changes: { status: "failed", error: reason.slice(0, 2000), updatedAt: now.toISOString() },
    },
    {
      type: "job.failed",
      data: { jobId, reason: reason.slice(0, 2000) },
      createdAt: now.getTime(),
      idempotencyKey: `${jobId}:failed`,
    },
  );
  if (changed) noteJobFinished(env, tenant, "failed", job, now, traceparent);
}

/** The job's log line (with the trace it started in) and its metrics, once it has finished. */
function noteJobFinished(
  env: Env,
  tenant: TenantSnapshot,
  state: "completed" | "failed",
  job: JobRow,
  finishedAt: Date,
  traceparent: string | undefined,
): void {
  const traceId = parseTraceparent(traceparent)?.traceId;
  const durationMs = Math.max(0, finishedAt.getTime() - Date.parse(job.createdAt));
  console.log(
    JSON.stringify({
      level: state === "failed" ? "warn" : "info",
      msg: `job ${state}`,
      traceId,
      tenant: tenant.id,
      jobId: job.id,
      artifacts: job.done,
      bytes: job.bytes,
      durationMs,
    }),
  );
  observeJob(env, {
    tenant: { id: tenant.id, plan: tenant.plan },
    state,
    durationMs,
    artifacts: job.done,
    artifactBytes: job.bytes,
    traceId,
  });
}
