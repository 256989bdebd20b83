import { database } from "../db/client";
import { jobFailureReason } from "../jobs/job-failure-reason";
import type { TracedMessage } from "../observability/trace-context";
import { problemFromDomainError } from "../problems/domain-problems";
import { HttpError } from "../problems/http-error";
import { TenantDirectory } from "../repository/tenants";
import { tenantObject } from "../tenant-object-stub";
import { runDriftCheck } from "./drift-check";
import { DriftReportStore, type StoredDriftRequest } from "./drift-report-store";

/** A queued drift check: the report it fills and the R2 key of its request. */
export interface DriftMessage extends TracedMessage {
  tenantId: string;
  reportId: string;
  requestKey: string;
}

/** Delay before the n-th retry: 2, 4, 8, … seconds, at most five minutes. */
const retryDelaySeconds = (attempts: number) => Math.min(300, 2 ** Math.max(1, attempts));

const isDeterministicFailure = (error: unknown) =>
  error instanceof HttpError || problemFromDomainError(error) !== undefined;

async function openReport(env: Env, message: DriftMessage) {
  const tenant = await new TenantDirectory(database(env.DB)).findById(message.tenantId);
  if (!tenant) return undefined; // tenant deleted: no report left to fill
  const stub = tenantObject(env, tenant);
  const row = await stub.driftReportGet(message.reportId);
  return row ? { tenant, stub, row } : undefined;
}

/**
 * Runs a queued check once: a report no longer pending (a redelivered message) is left alone, and the
 * report body is written before the row says done, so a done row always has its body.
 */
export async function processDriftMessage(env: Env, message: DriftMessage): Promise<void> {
  const open = await openReport(env, message);
  if (open?.row.state !== "pending") return;
  const { tenant, stub, row } = open;
  const store = new DriftReportStore(env.ARTIFACTS, tenant.id);
  const object = await env.ARTIFACTS.get(message.requestKey);
  if (!object) {
    await stub.driftReportFail(row.id, "the stored request is missing", Date.now());
    return;
  }
  const request = (await object.json()) as StoredDriftRequest;
  try {
    const report = await runDriftCheck(env, tenant, row.id, request, new Date(row.createdAt).toISOString());
    await store.putReport(report);
    await stub.driftReportComplete(
      row.id,
      report.status ?? "drift",
      report.summary as NonNullable<typeof report.summary>,
      Date.now(),
    );
  } catch (error) {
    if (!isDeterministicFailure(error)) throw error;
    await stub.driftReportFail(row.id, jobFailureReason(error), Date.now());
  }
  await store.deleteRequest(row.id);
}

export async function consumeDriftBatch(batch: MessageBatch<DriftMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    try {
      await processDriftMessage(env, message.body);
      message.ack();
    } catch (error) {
      console.error(
        JSON.stringify({
          level: "error",
          msg: "drift check failed",
          reportId: message.body.reportId,
          attempts: message.attempts,
          reason: String(error),
          stack: (error as Error)?.stack,
        }),
      );
      await noteError(env, message.body, "an internal error stopped the check (the log has the details)");
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}

async function noteError(env: Env, message: DriftMessage, reason: string): Promise<void> {
  try {
    const open = await openReport(env, message);
    await open?.stub.driftReportNoteError(message.reportId, reason, Date.now());
  } catch {
    // The retry still happens; losing the reason only makes the eventual failure less specific.
  }
}

/** Checks that used up their retries: the report fails with the last reason recorded. */
export async function consumeDriftDeadLetters(batch: MessageBatch<DriftMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const open = await openReport(env, message.body);
    if (open?.row.state === "pending") {
      await open.stub.driftReportFail(
        open.row.id,
        `dead-lettered after retries: ${open.row.error ?? "the check could not be run"}`,
        Date.now(),
      );
      await new DriftReportStore(env.ARTIFACTS, open.tenant.id).deleteRequest(open.row.id);
    }
    message.ack();
  }
}
