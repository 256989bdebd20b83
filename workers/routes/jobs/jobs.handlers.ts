import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { JobPin } from "../../../durable-objects/tenant/job-start";
import { publicJwks } from "../../../shared/crypto/tenant-keys";
import { planBundle, streamBundle } from "../../../shared/generate/bundle";
import { type Lock, parseLock } from "../../../shared/generate/lock";
import type { AppEnv } from "../../context";
import { database } from "../../db/client";
import type { JobRow } from "../../db/schema";
import { lockFor } from "../../jobs/job-inputs";
import { verifyReplayedLock } from "../../jobs/replayed-lock";
import { planOnly, startJob } from "../../jobs/run-job";
import type { AppRouteHandler } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { notFound } from "../../problems/problem-response";
import { ArtifactIndex, type ArtifactRecord } from "../../repository/artifact-index";
import { JobLedger } from "../../repository/jobs";
import { decodeCursor, pageOf, toPage } from "../../repository/pagination";
import { SigningKeyRing } from "../../repository/signing-keys";
import { artifactBytes } from "../../storage/artifact-content";
import { ContentStore } from "../../storage/content-store";
import { envelopeOf } from "./artifact-envelope";
import type * as routes from "./jobs.routes";

export function jobView(job: JobRow): z.infer<typeof routes.jobSchema> {
  return {
    id: job.id,
    status: job.status as z.infer<typeof routes.jobSchema>["status"],
    generator: job.generator,
    pinned: job.pinned,
    lock: job.lock as unknown as Lock,
    lockHash: job.lockHash,
    baseJob: job.baseJobId,
    counts: { total: job.total, artifacts: job.done, skipped: job.skipped, bytes: job.bytes, carried: job.carried },
    error: job.error,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

/** The row of an artifact in the one shape the plan, the row and the view share. */
export function artifactView(row: ArtifactRecord): z.infer<typeof routes.writtenArtifactSchema> {
  return {
    id: row.id,
    path: row.path,
    sha256: row.sha256,
    size: row.size,
    mode: row.mode as z.infer<typeof routes.writtenArtifactSchema>["mode"],
    chmod: row.chmod,
    template: { path: row.templatePath, hash: row.templateHash },
  };
}

export async function findJob(c: Context<AppEnv>, id: string): Promise<JobRow> {
  const job = await new JobLedger(database(c.env.DB), c.var.tenant.id).find(id);
  if (!job) throw notFound("The job");
  return job;
}

/** What is read from a job's artifacts as a whole (a bundle, a diff) needs the job to have finished writing them. */
export function assertCompleted(job: JobRow): void {
  if (job.status !== "completed")
    throw new HttpError(409, "job-not-completed", "Conflict", `The job ${job.id} is ${job.status}.`);
}

/**
 * `POST /v1/jobs` and its deprecated alias `POST /v1/generations`: checks what needs no plan (generator,
 * graph version, params, a replayed lock), then starts the job and answers 202 at once; the plan runs on
 * the queue. A dry run plans in the request and answers 200 with the plan. `only: "affected"` starts an
 * incremental job over a completed one: its lock and params, the graph pinned to another version.
 */
export const createJob: AppRouteHandler<typeof routes.createJob> = async (c) => {
  const body = c.req.valid("json");
  const { tenant } = c.var;
  const start = async (pin: JobPin, params: JobRow["params"]) => {
    const job = await startJob(c.env, tenant, pin, params, c.var.traceparent);
    return c.json(jobView(job), 202, { location: `/v1/jobs/${job.id}` });
  };
  if ("only" in body) {
    const base = await findJob(c, body.job);
    assertCompleted(base);
    return start(
      { kind: "rebase", baseJobId: base.id, lock: parseLock(base.lock), version: body.version },
      base.params,
    );
  }
  const dryRun = async (lock: Lock) => {
    const withContent = body.include?.includes("content") ?? false;
    return c.json(await planOnly(c.env, tenant, lock, body.params, { withContent }), 200);
  };
  if ("lock" in body) {
    const lock = parseLock(body.lock);
    await verifyReplayedLock(c.env, tenant, lock, body.params);
    return body.dryRun ? dryRun(lock) : start({ kind: "lock", lock }, body.params);
  }
  if (body.dryRun) return dryRun(await lockFor(c.env, tenant, body));
  // The tenant's object reads the generator from the catalog within the one call that starts the job.
  const { graph, version, generator, options } = body;
  return start({ kind: "catalog", graph, version, generator, options }, body.params);
};

export const listJobs: AppRouteHandler<typeof routes.listJobs> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const rows = await new JobLedger(database(c.env.DB), c.var.tenant.id).list(
    limit,
    cursor ? decodeCursor(cursor) : undefined,
  );
  return c.json(toPage(rows, limit, jobView), 200);
};

export const getJob: AppRouteHandler<typeof routes.getJob> = async (c) =>
  c.json(jobView(await findJob(c, c.req.valid("param").id)), 200);

export const listJobArtifacts: AppRouteHandler<typeof routes.listJobArtifacts> = async (c) => {
  const job = await findJob(c, c.req.valid("param").id);
  const { limit, cursor } = c.req.valid("query");
  const rows = await new ArtifactIndex(c.env, c.var.tenant).list(job.id, limit, cursor);
  return c.json(
    pageOf(rows, limit, artifactView, (row) => row.path),
    200,
  );
};

export const getJobBundle: AppRouteHandler<typeof routes.getJobBundle> = async (c) => {
  const job = await findJob(c, c.req.valid("param").id);
  assertCompleted(job);
  const artifacts = await new ArtifactIndex(c.env, c.var.tenant).list(job.id, 1_000_000, undefined, {
    withAttestation: true,
  });
  const content = new ContentStore(c.env.ARTIFACTS, c.var.tenant.id);
  const rows = planBundle(
    artifacts.map((a) => ({
      path: a.path,
      mode: a.mode,
      sha256: a.sha256,
      size: a.size,
      unixMode: a.chmod ? Number.parseInt(a.chmod, 8) : undefined,
      hasAttestation: true,
      template: a.templatePath,
    })),
  );
  const stream = streamBundle({
    lock: parseLock(job.lock),
    rows,
    readArtifact: async (row) => {
      const artifact = artifacts[row.index] as ArtifactRecord;
      const bytes = await artifactBytes(content, artifact);
      if (bytes === null) throw new Error(`artifact blob ${artifact.sha256} missing`);
      return bytes;
    },
    readAttestation: async (row) => envelopeOf(c, artifacts[row.index] as ArtifactRecord),
    jwks: publicJwks(await new SigningKeyRing(database(c.env.DB), c.var.tenant.id).all()),
  });
  return c.body(stream, 200, {
    "content-type": "application/zip",
    "content-disposition": `attachment; filename="${job.id}.zip"`,
  });
};

async function setPinned(c: Context<AppEnv>, id: string, pinned: boolean) {
  const job = await new JobLedger(database(c.env.DB), c.var.tenant.id).setPinned(id, pinned);
  if (!job) throw notFound("The job");
  return jobView(job);
}

export const pinJob: AppRouteHandler<typeof routes.pinJob> = async (c) =>
  c.json(await setPinned(c, c.req.valid("param").id, true), 200);

export const unpinJob: AppRouteHandler<typeof routes.unpinJob> = async (c) =>
  c.json(await setPinned(c, c.req.valid("param").id, false), 200);
