import { randomId } from "../../shared/core/encoding";
import { parseLock } from "../../shared/generate/lock";
import type { TenantSnapshot } from "../context";
import type { JobRow } from "../db/schema";
import { runDriftCheck, validateDriftFiles } from "../drift/drift-check";
import { DriftReportStore } from "../drift/drift-report-store";
import { jobImpact } from "../jobs/job-impact";
import { startJob } from "../jobs/run-job";
import { tenantObject } from "../tenant-object-stub";

/** What a finished check reports for its run. */
export interface CheckOutcome {
  status: "clean" | "drift";
  counts: Record<string, number>;
  reportId: string | null;
  regeneratedJobId?: string | null;
}

/**
 * The drift check of a manifest's hashes against the job, stored as a drift report like one made by
 * `POST /v1/drift` (readable at `GET /v1/drift/{id}`): the report body first, then its index row.
 */
async function driftCheck(
  env: Env,
  tenant: TenantSnapshot,
  job: JobRow,
  files: { path: string; sha256: string }[],
): Promise<CheckOutcome> {
  const request = { job: job.id, files: validateDriftFiles(files) };
  const id = randomId("drift");
  const now = Date.now();
  const report = await runDriftCheck(env, tenant, id, request, new Date(now).toISOString());
  await new DriftReportStore(env.ARTIFACTS, tenant.id).putReport(report);
  await tenantObject(env, tenant).driftReportCreate({
    id,
    jobId: job.id,
    state: "done",
    status: report.status,
    summary: report.summary,
    now,
  });
  const summary = report.summary as NonNullable<typeof report.summary>;
  return { status: report.status === "clean" ? "clean" : "drift", counts: { ...summary }, reportId: id };
}

/**
 * The impact of a new graph version on the job. A run that finds files to change, add or remove is
 * drift; with `regenerate`, it also starts the job's incremental regeneration at that version (the
 * job's templates and params, only the affected units rendered).
 */
async function impact(
  env: Env,
  tenant: TenantSnapshot,
  job: JobRow,
  version: number,
  regenerate: boolean,
): Promise<CheckOutcome> {
  const report = await jobImpact(env, tenant, job, version);
  const { summary } = report;
  const affected = summary.changed + summary.added + summary.removed;
  let regeneratedJobId: string | null = null;
  if (regenerate && affected > 0) {
    // Incremental: only the affected units are rendered, the others carried over from the job.
    const pin = { kind: "rebase" as const, baseJobId: job.id, lock: parseLock(job.lock), version };
    regeneratedJobId = (await startJob(env, tenant, pin, job.params)).id;
  }
  return { status: affected > 0 ? "drift" : "clean", counts: { ...summary }, reportId: null, regeneratedJobId };
}

export const monitorChecks = { driftCheck, impact };
