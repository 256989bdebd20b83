import type { JobRequest, RenderedBatch } from "../../durable-objects/tenant/job-service";
import { unwrap } from "../../durable-objects/tenant/rpc-outcome";
import { type Lock, lockHash } from "../../shared/generate/lock";
import { checkCaseCollisions, PathCollisionError } from "../../shared/generate/path-collisions";
import type { UnitBatch } from "../../shared/generate/plan";
import { monthPeriod, type PlanName, planLimits, queryLimits } from "../../shared/plans";
import { QuotaExceededError } from "../../shared/quota-errors";
import type { WriteModeName } from "../../shared/template/frontmatter/parse-frontmatter";
import type { TenantSnapshot } from "../context";
import { database } from "../db/client";
import type { JobRow } from "../db/schema";
import { HttpError } from "../problems/http-error";
import { JobLedger } from "../repository/jobs";
import { tenantObject } from "../tenant-object-stub";
import { ArtifactWriter, tenantSigner } from "./artifact-writer";
import { assertInlineContentSize } from "./inline-content";
import { jobFailureReason } from "./job-failure-reason";
import { templatesOfLock } from "./job-inputs";
import { recordJobProgress } from "./job-progress";

/** Units per queue message. */
export const GENERATE_BATCH_SIZE = 50;
/** Artifacts one queued job may have (fan-out guard). */
export const MAX_QUEUED_ARTIFACTS = 100_000;
/** Queue messages per sendBatch call (the platform's limit). */
const SEND_BATCH_LIMIT = 100;

export interface GenerateMessage {
  tenantId: string;
  jobId: string;
  batch: UnitBatch;
}

export async function jobRequest(
  env: Env,
  tenant: TenantSnapshot,
  lock: Lock,
  params: Record<string, unknown>,
  maxArtifacts: number,
): Promise<JobRequest> {
  return {
    lock,
    params,
    templates: await templatesOfLock(env, tenant.id, lock),
    limits: queryLimits(tenant.plan),
    maxArtifacts,
  };
}

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
 * The plan without writing: the artifacts it would produce, with their content on request (at most
 * MAX_INLINE_CONTENT_BYTES in all), or only their count for plans larger than a synchronous job.
 */
export async function planOnly(
  env: Env,
  tenant: TenantSnapshot,
  lock: Lock,
  params: Record<string, unknown>,
  options: { withContent?: boolean } = {},
): Promise<DryRunPlan> {
  const syncLimit = planLimits(tenant.plan as PlanName).syncJobArtifacts;
  const stub = tenantObject(env, tenant);
  const request = await jobRequest(env, tenant, lock, params, MAX_QUEUED_ARTIFACTS);
  const { units } = unwrap(await stub.jobCount(request, GENERATE_BATCH_SIZE));
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
  const rendered = unwrap(await stub.jobRenderAll(request));
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
 * Starts a job: small ones run here and complete in the request, larger ones are split
 * into unit batches on the `generate` queue. Quotas are reserved before any work is stored.
 */
export async function startJob(
  env: Env,
  tenant: TenantSnapshot,
  lock: Lock,
  params: Record<string, unknown>,
): Promise<{ job: JobRow; synchronous: boolean }> {
  const limits = planLimits(tenant.plan as PlanName);
  const stub = tenantObject(env, tenant);
  const ledger = new JobLedger(database(env.DB), tenant.id);
  const request = await jobRequest(env, tenant, lock, params, MAX_QUEUED_ARTIFACTS);
  const { units, batches } = unwrap(await stub.jobCount(request, GENERATE_BATCH_SIZE));
  const synchronous = units <= limits.syncJobArtifacts;
  const rendered: RenderedBatch | undefined = synchronous ? unwrap(await stub.jobRenderAll(request)) : undefined;

  const now = new Date();
  const jobId = `job_${crypto.randomUUID().replaceAll("-", "")}`;
  const bytes = rendered?.artifacts.reduce((sum, a) => sum + a.size, 0) ?? 0;
  const reservation = await stub.reserveQuotas({
    reservations: [
      {
        counter: "generations",
        amount: 1,
        limit: limits.generationsPerMonth,
        period: monthPeriod(now.getTime()),
        idempotencyKey: `${jobId}:generation`,
      },
      ...(synchronous
        ? [
            {
              counter: "artifactBytes" as const,
              amount: bytes,
              limit: limits.artifactBytes,
              idempotencyKey: `${jobId}:bytes`,
            },
          ]
        : []),
    ],
  });
  if (!reservation.granted) {
    const refused = reservation.reservations.find((r) => !r.granted) ?? reservation.reservations[0];
    throw new QuotaExceededError(refused?.counter ?? "generations", refused?.limit ?? 0, refused?.used ?? 0);
  }

  const hashOfLock = await lockHash(lock);
  await stub.recordJobChange(
    tenant.id,
    {
      kind: "create",
      job: {
        id: jobId,
        status: synchronous ? "running" : "queued",
        lock: lock as unknown as Record<string, unknown>,
        lockHash: hashOfLock,
        params,
        dryRun: false,
        total: units,
        done: 0,
        skipped: 0,
        bytes: 0,
        error: null,
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
      },
    },
    {
      type: "job.started",
      data: { jobId, lockHash: hashOfLock, units },
      createdAt: now.getTime(),
      idempotencyKey: `${jobId}:started`,
    },
  );

  if (synchronous && rendered) {
    try {
      const writer = new ArtifactWriter(env, tenant.id, jobId, lock, hashOfLock, await tenantSigner(env, tenant.id));
      await recordJobProgress(env, tenant, jobId, "all", await writer.write(rendered, "all", now.toISOString()));
      await completeJob(env, tenant, jobId);
    } catch (error) {
      await failJob(env, tenant, jobId, jobFailureReason(error));
      // Nothing was delivered: give the reserved quota back.
      await stub.releaseQuota({
        counter: "generations",
        amount: 1,
        period: monthPeriod(now.getTime()),
        idempotencyKey: `${jobId}:generation:release`,
      });
      await stub.releaseQuota({ counter: "artifactBytes", amount: bytes, idempotencyKey: `${jobId}:bytes:release` });
      throw error;
    }
    return { job: (await ledger.find(jobId)) as JobRow, synchronous: true };
  }

  const messages = batches.map((batch) => ({ body: { tenantId: tenant.id, jobId, batch } satisfies GenerateMessage }));
  for (let start = 0; start < messages.length; start += SEND_BATCH_LIMIT) {
    await env.GENERATE_QUEUE.sendBatch(messages.slice(start, start + SEND_BATCH_LIMIT));
  }
  if (messages.length === 0) await completeJob(env, tenant, jobId);
  return { job: (await ledger.find(jobId)) as JobRow, synchronous: false };
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
  options: { acrossBatches?: boolean } = {},
): Promise<boolean> {
  const ledger = new JobLedger(database(env.DB), tenant.id);
  const job = await ledger.find(jobId);
  if (!job || job.status === "completed" || job.status === "failed") return false;
  if (job.done + job.skipped < job.total) {
    if (job.status === "queued") await ledger.update(jobId, { status: "running", updatedAt: new Date().toISOString() });
    return false;
  }
  if (options.acrossBatches) {
    const paths = await ledger.outputPathsOf(jobId);
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
      changes: { status: "completed", updatedAt: now.toISOString() },
    },
    {
      type: "job.completed",
      data: { jobId, artifacts: job.done, skipped: job.skipped, bytes: job.bytes },
      createdAt: now.getTime(),
      idempotencyKey: `${jobId}:completed`,
    },
  );
  return changed;
}

export async function failJob(env: Env, tenant: TenantSnapshot, jobId: string, reason: string): Promise<void> {
  const ledger = new JobLedger(database(env.DB), tenant.id);
  const job = await ledger.find(jobId);
  if (!job || job.status === "completed" || job.status === "failed") return;
  const now = new Date();
  await tenantObject(env, tenant).recordJobChange(
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
}
