import type { MonitorTarget } from "../../shared/contracts/monitors";
import { paramsHash } from "../../shared/generate/lock";
import { monthPeriod, quotaLimit } from "../../shared/plans";
import type { TenantSnapshot } from "../context";
import { database } from "../db/client";
import type { JobRow, MonitorRow } from "../db/schema";
import { retryDelaySeconds } from "../jobs/generate-consumer";
import { jobFailureReason } from "../jobs/job-failure-reason";
import { destinationPolicy } from "../outbound/destination-guard";
import { problemFromDomainError } from "../problems/domain-problems";
import { HttpError } from "../problems/http-error";
import { JobLedger } from "../repository/jobs";
import { MonitorRegistry } from "../repository/monitors";
import { TenantDirectory } from "../repository/tenants";
import { tenantObject } from "../tenant-object-stub";
import { fetchManifest, ManifestError } from "./manifest-fetch";
import { openManifestHeaders } from "./manifest-headers";
import { monitorChecks } from "./monitor-checks";
import type { MonitorRunMessage } from "./monitor-run-message";

/** A run that cannot succeed however often it is retried: it ends failed with this reason at once. */
export class MonitorRunFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MonitorRunFailure";
  }
}

/** A failure that repeats on every attempt (a problem we raise on purpose), as opposed to one worth retrying. */
const isDeterministicFailure = (error: unknown) =>
  error instanceof MonitorRunFailure || error instanceof HttpError || problemFromDomainError(error) !== undefined;

const failureReason = (error: unknown) =>
  error instanceof MonitorRunFailure ? error.message : jobFailureReason(error);

/** The job a monitor checks: the one it names, or the newest completed job of its generator over its graph. */
async function targetJob(env: Env, tenant: TenantSnapshot, target: MonitorTarget): Promise<JobRow> {
  const ledger = new JobLedger(database(env.DB), tenant.id);
  if ("job" in target) {
    const job = await ledger.find(target.job);
    if (!job) throw new MonitorRunFailure(`the job ${target.job} no longer exists`);
    if (job.status !== "completed") throw new MonitorRunFailure(`the job ${target.job} is ${job.status}`);
    return job;
  }
  const job = await ledger.latestCompleted(target.graph, target.generator, await paramsHash(target.params ?? {}));
  if (!job)
    throw new MonitorRunFailure(
      `no completed job of generator "${target.generator}" over graph "${target.graph}" with these params`,
    );
  return job;
}

async function check(env: Env, tenant: TenantSnapshot, monitor: MonitorRow, message: MonitorRunMessage) {
  const job = await targetJob(env, tenant, monitor.target as MonitorTarget);
  if (monitor.sourceKind === "manifest") {
    if (monitor.manifestUrl === null) throw new MonitorRunFailure("the monitor has no manifest URL");
    const headers = await openManifestHeaders(env, tenant.id, monitor.id, monitor.encryptedHeaders);
    let manifest: Awaited<ReturnType<typeof fetchManifest>>;
    try {
      manifest = await fetchManifest(monitor.manifestUrl, headers, destinationPolicy(env.ENVIRONMENT as string));
    } catch (error) {
      if (error instanceof ManifestError) throw new MonitorRunFailure(error.message);
      throw error;
    }
    return { job, outcome: await monitorChecks.driftCheck(env, tenant, job, manifest.files) };
  }
  if (message.version === undefined) throw new MonitorRunFailure("a graph monitor run needs the new version");
  return {
    job,
    outcome: await monitorChecks.impact(env, tenant, job, message.version, monitor.onDrift === "regenerate"),
  };
}

/**
 * Runs one monitor run: claims it in the tenant object (a finished run, or one over the monthly quota, is not
 * run again), checks, and records the result with its events. A deterministic failure ends the run failed at
 * once; anything else is left to the queue's retries (the DLQ ends it failed).
 */
export async function runMonitor(env: Env, message: MonitorRunMessage): Promise<void> {
  const tenant = await new TenantDirectory(database(env.DB)).findById(message.tenantId);
  if (tenant?.status !== "active") return;
  const monitor = await new MonitorRegistry(database(env.DB), tenant.id).find(message.monitorId);
  if (!monitor?.enabled) return;
  const stub = tenantObject(env, tenant);
  const base = {
    runId: message.runId,
    monitorId: monitor.id,
    trigger: message.trigger,
    scheduledFor: message.scheduledFor,
  };
  const started = await stub.monitorRunStart({
    ...base,
    now: Date.now(),
    quota: { period: monthPeriod(message.scheduledFor), limit: quotaLimit(tenant.plan, "monitorRuns") },
  });
  if (!started.start) return;
  const kind = monitor.sourceKind === "graph" ? "impact" : "drift";
  try {
    const { job, outcome } = await check(env, tenant, monitor, message);
    await stub.monitorRunFinish({
      ...base,
      kind,
      now: Date.now(),
      status: outcome.status,
      counts: outcome.counts,
      reportId: outcome.reportId,
      jobId: job.id,
      regeneratedJobId: outcome.regeneratedJobId ?? null,
    });
  } catch (error) {
    if (!isDeterministicFailure(error)) throw error;
    await stub.monitorRunFinish({ ...base, kind, now: Date.now(), status: "failed", error: failureReason(error) });
  }
}

/** Drift-queue messages of monitor runs: retried with backoff on unexpected failures. */
export async function consumeMonitorRun(message: Message<MonitorRunMessage>, env: Env): Promise<void> {
  try {
    await runMonitor(env, message.body);
    message.ack();
  } catch (error) {
    console.error(
      JSON.stringify({
        level: "error",
        msg: "monitor run failed; retrying",
        runId: message.body.runId,
        attempts: message.attempts,
        error: String(error),
      }),
    );
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

/** A run whose message used up its retries ends failed, with the reason. */
export async function consumeMonitorRunDeadLetter(message: Message<MonitorRunMessage>, env: Env): Promise<void> {
  const body = message.body;
  const tenant = await new TenantDirectory(database(env.DB)).findById(body.tenantId);
  if (tenant) {
    await tenantObject(env, tenant).monitorRunFinish({
      runId: body.runId,
      monitorId: body.monitorId,
      trigger: body.trigger,
      scheduledFor: body.scheduledFor,
      now: Date.now(),
      kind: body.version === undefined ? "drift" : "impact",
      status: "failed",
      error: `dead-lettered after ${message.attempts} attempts`,
    });
  }
  message.ack();
}
