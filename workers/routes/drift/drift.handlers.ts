import type { Context } from "hono";
import type { DriftReportRow } from "../../../durable-objects/tenant-object";
import { type DriftReportView, SYNC_DRIFT_MAX_BODY_BYTES, SYNC_DRIFT_MAX_FILES } from "../../../shared/contracts/drift";
import { randomId, utf8 } from "../../../shared/core/encoding";
import { lockHash, parseLock } from "../../../shared/generate/lock";
import type { AppEnv } from "../../context";
import { database } from "../../db/client";
import type { JobRow } from "../../db/schema";
import { runDriftCheck, validateDriftFiles } from "../../drift/drift-check";
import type { DriftMessage } from "../../drift/drift-consumer";
import { DriftReportStore, type StoredDriftRequest } from "../../drift/drift-report-store";
import { countQueueSent } from "../../observability/operator-metrics";
import type { AppRouteHandler } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { notFound } from "../../problems/problem-response";
import { JobLedger } from "../../repository/jobs";
import { decodeCursor, encodeCursor, pageOf } from "../../repository/pagination";
import { tenantObject } from "../../tenant-object-stub";
import type * as routes from "./drift.routes";

/** The completed job a check compares with: named, or the newest completed one with the lock's hash. */
async function expectedJob(c: Context<AppEnv>, body: { job: string } | { lock: unknown }): Promise<JobRow> {
  const ledger = new JobLedger(database(c.env.DB), c.var.tenant.id);
  if ("job" in body) {
    const job = await ledger.find(body.job);
    if (!job) throw notFound("The job");
    if (job.status !== "completed" || job.dryRun) {
      throw new HttpError(
        409,
        "job-not-completed",
        "Job not completed",
        `Job ${job.id} is ${job.status}: only a completed job's artifacts can be checked.`,
        {
          extensions: { job: job.id, jobStatus: job.status },
        },
      );
    }
    return job;
  }
  const hash = await lockHash(parseLock(body.lock));
  const job = await ledger.latestCompletedWithLockHash(hash);
  if (!job) {
    throw new HttpError(
      409,
      "lock-not-generated",
      "Lock not generated",
      `No completed job has lock hash ${hash}. Generate it first (POST /v1/jobs with this lock), then check again.`,
      { extensions: { lockHash: hash } },
    );
  }
  return job;
}

/** The view of a report from its index row alone (pending, failed, or a list item). */
function rowView(row: DriftReportRow): DriftReportView {
  return {
    id: row.id,
    job: row.jobId,
    state: row.state,
    ...(row.status === null ? {} : { status: row.status, exitCode: row.status === "clean" ? 0 : 3 }),
    ...(row.summary === null ? {} : { summary: row.summary }),
    ...(row.state === "failed" && row.error !== null ? { error: row.error } : {}),
    createdAt: new Date(row.createdAt).toISOString(),
  } as DriftReportView;
}

/**
 * Validates everything (paths, contents, the job) before storing anything; then a small check runs
 * here and is stored done, a large one is stored with its request in R2 and queued.
 */
export const createDriftCheck: AppRouteHandler<typeof routes.createDriftCheck> = async (c) => {
  const body = c.req.valid("json");
  const files = validateDriftFiles(body.files);
  const job = await expectedJob(c, body);
  const request: StoredDriftRequest = { job: job.id, files, ...(body.paths ? { paths: body.paths } : {}) };
  const tenantId = c.var.tenant.id;
  const id = randomId("drift");
  const now = Date.now();
  const createdAt = new Date(now).toISOString();
  const stub = tenantObject(c.env, c.var.tenant);
  const store = new DriftReportStore(c.env.ARTIFACTS, tenantId);
  const queued =
    files.length > SYNC_DRIFT_MAX_FILES || utf8(JSON.stringify(request)).byteLength > SYNC_DRIFT_MAX_BODY_BYTES;
  if (queued) {
    const requestKey = await store.putRequest(id, request);
    const row = await stub.driftReportCreate({ id, jobId: job.id, state: "pending", now });
    const message: DriftMessage = { tenantId, reportId: id, requestKey, traceparent: c.var.traceparent };
    try {
      await c.env.DRIFT_QUEUE.send(message);
      countQueueSent("drift", 1);
    } catch (error) {
      await stub.driftReportFail(id, "the check could not be queued", Date.now());
      throw error;
    }
    return c.json(rowView(row), 202, { location: `/v1/drift/${id}` });
  }
  const report = await runDriftCheck(c.env, c.var.tenant, id, request, createdAt);
  // The body first: a row that says done always has its report.
  await store.putReport(report);
  await stub.driftReportCreate({
    id,
    jobId: job.id,
    state: "done",
    status: report.status,
    summary: report.summary,
    now,
  });
  return c.json(report, 200);
};

export const getDriftReport: AppRouteHandler<typeof routes.getDriftReport> = async (c) => {
  const { id } = c.req.valid("param");
  const row = await tenantObject(c.env, c.var.tenant).driftReportGet(id);
  if (!row) throw notFound("The drift report");
  if (row.state !== "done") return c.json(rowView(row), 200);
  const report = await new DriftReportStore(c.env.ARTIFACTS, c.var.tenant.id).report(id);
  if (!report) throw new Error(`drift report ${id} has no stored body`);
  return c.json(report, 200);
};

function reportCursor(text: string): { createdAt: number; id: string } {
  const cursor = decodeCursor(text);
  const createdAt = Number(cursor.createdAt);
  if (!Number.isSafeInteger(createdAt)) decodeCursor("");
  return { createdAt, id: cursor.id };
}

export const listDriftReports: AppRouteHandler<typeof routes.listDriftReports> = async (c) => {
  const { limit, cursor, job } = c.req.valid("query");
  const rows = await tenantObject(c.env, c.var.tenant).driftReportList(
    limit,
    job,
    cursor === undefined ? undefined : reportCursor(cursor),
  );
  return c.json(
    pageOf(rows, limit, rowView, (row) => encodeCursor({ createdAt: String(row.createdAt), id: row.id })),
    200,
  );
};
