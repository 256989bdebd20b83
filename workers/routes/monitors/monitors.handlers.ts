import type { Context } from "hono";
import type { MonitorOnDrift, MonitorSource, MonitorTarget } from "../../../shared/contracts/monitors";
import { bytesToBase64Url, randomId, utf8 } from "../../../shared/core/encoding";
import { parseLock } from "../../../shared/generate/lock";
import { planLimits } from "../../../shared/plans";
import type { AppEnv } from "../../context";
import { database } from "../../db/client";
import type { MonitorRow } from "../../db/schema";
import { sealManifestHeaders } from "../../monitors/manifest-headers";
import { checkSchedule, MonitorScheduleError, nextRunAfter } from "../../monitors/monitor-schedule";
import type { AppRouteHandler } from "../../openapi";
import { checkDestination, destinationPolicy } from "../../outbound/destination-guard";
import { HttpError } from "../../problems/http-error";
import { invalidField, notFound } from "../../problems/problem-response";
import { JobLedger } from "../../repository/jobs";
import { MonitorRegistry } from "../../repository/monitors";
import { decodeCursor, pageOf, toPage } from "../../repository/pagination";
import { tenantObject } from "../../tenant-object-stub";
import { monitorView } from "./monitor-view";
import type * as routes from "./monitors.routes";

const registryOf = (c: Context<AppEnv>) => new MonitorRegistry(database(c.env.DB), c.var.tenant.id);

/** Runs a deleted monitor's history loses in the delete's own call; retention takes the rest. */
const FORGET_RUNS_ON_DELETE = 5_000;

const invalidMonitor = (detail: string, field: string) =>
  new HttpError(422, "invalid-monitor", "Invalid monitor", detail, {
    extensions: { errors: [{ field, message: detail }] },
  });

async function findMonitor(c: Context<AppEnv>, id: string): Promise<MonitorRow> {
  const row = await registryOf(c).find(id);
  if (!row) throw notFound("The monitor");
  return row;
}

/** The graph whose versions a graph monitor watches: its target's, or the graph of its job's lock (404 for a job not the tenant's). */
async function watchedGraph(c: Context<AppEnv>, target: MonitorTarget): Promise<string> {
  if (!("job" in target)) return target.graph;
  const job = await new JobLedger(database(c.env.DB), c.var.tenant.id).find(target.job);
  if (!job) throw notFound("The job");
  return parseLock(job.lock).graph.name;
}

/** The schedule normalized, checked against the plan's shortest interval (422 `invalid-schedule`). */
function scheduleOf(c: Context<AppEnv>, schedule: string, now: Date): string {
  try {
    return checkSchedule(schedule, planLimits(c.var.tenant.plan).monitorMinIntervalMinutes, now);
  } catch (error) {
    if (!(error instanceof MonitorScheduleError)) throw error;
    throw new HttpError(422, "invalid-schedule", "Invalid schedule", error.message, {
      extensions: { errors: [{ field: "schedule", message: error.message }] },
    });
  }
}

/** The combination rules the schema cannot state: what each source needs and allows. */
function checkCombination(
  source: MonitorSource,
  schedule: string | null,
  onDrift: MonitorOnDrift,
  environment: string,
) {
  if (source.kind === "manifest") {
    checkDestination(source.url, destinationPolicy(environment));
    if (schedule === null) throw invalidMonitor("A manifest monitor needs a schedule.", "schedule");
    if (onDrift === "regenerate")
      throw invalidMonitor(
        "onDrift regenerate applies to graph monitors: regenerating cannot change files a manifest describes.",
        "onDrift",
      );
  } else if (schedule !== null) {
    throw invalidMonitor("A graph monitor runs on every new version of its graph; it takes no schedule.", "schedule");
  }
}

/** The source's columns, with manifest headers sealed under the tenant's key. */
async function sourceColumns(c: Context<AppEnv>, id: string, source: MonitorSource) {
  if (source.kind === "graph")
    return { sourceKind: "graph" as const, manifestUrl: null, headerNames: null, encryptedHeaders: null };
  const headers = source.headers ?? {};
  return {
    sourceKind: "manifest" as const,
    manifestUrl: source.url,
    headerNames: Object.keys(headers).sort(),
    encryptedHeaders:
      Object.keys(headers).length > 0 ? await sealManifestHeaders(c.env, c.var.tenant.id, id, headers) : null,
  };
}

const nextRun = (schedule: string | null, enabled: boolean, now: Date) =>
  schedule !== null && enabled ? (nextRunAfter(schedule, now)?.toISOString() ?? null) : null;

async function appendMonitorChange(
  c: Context<AppEnv>,
  type: "monitor.created" | "monitor.deleted",
  monitorId: string,
  name: string,
) {
  await tenantObject(c.env, c.var.tenant).appendEvent({
    type,
    data: { monitorId, name },
    createdAt: Date.now(),
    idempotencyKey: `${type}:${monitorId}`,
  });
}

export const createMonitor: AppRouteHandler<typeof routes.createMonitor> = async (c) => {
  const input = c.req.valid("json");
  const { tenant, principal } = c.var;
  const now = new Date();
  const schedule = input.schedule === undefined ? null : scheduleOf(c, input.schedule, now);
  checkCombination(input.source, schedule, input.onDrift, c.env.ENVIRONMENT as string);
  const graph = await watchedGraph(c, input.target);
  const id = randomId("mon");
  const limit = planLimits(tenant.plan).monitors;
  const creation = await registryOf(c).create(
    {
      id,
      name: input.name,
      target: input.target as Record<string, unknown>,
      graph,
      ...(await sourceColumns(c, id, input.source)),
      schedule,
      onDrift: input.onDrift,
      enabled: true,
      nextRunAt: nextRun(schedule, true, now),
      createdAt: now.toISOString(),
      createdBy: principal.subject,
      updatedAt: now.toISOString(),
    },
    limit,
    c.var.requestId,
  );
  if (!creation.created) {
    if (creation.reason === "name-taken")
      throw new HttpError(409, "conflict", "Conflict", `A monitor named "${input.name}" exists.`);
    throw new HttpError(
      403,
      "quota-exceeded",
      "Quota exceeded",
      `Your plan allows ${limit} monitors; delete one first.`,
      { extensions: { counter: "monitors", limit, used: await registryOf(c).count() } },
    );
  }
  if (input.source.kind === "graph") await tenantObject(c.env, tenant).monitorWatchGraphs(tenant.id);
  await appendMonitorChange(c, "monitor.created", id, input.name);
  return c.json(monitorView(creation.row), 201, { location: `/v1/monitors/${id}` });
};

export const listMonitors: AppRouteHandler<typeof routes.listMonitors> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  return c.json(toPage(await registryOf(c).list(limit, cursor), limit, monitorView), 200);
};

export const getMonitor: AppRouteHandler<typeof routes.getMonitor> = async (c) =>
  c.json(monitorView(await findMonitor(c, c.req.valid("param").id)), 200);

export const updateMonitor: AppRouteHandler<typeof routes.updateMonitor> = async (c) => {
  const changes = c.req.valid("json");
  const current = await findMonitor(c, c.req.valid("param").id);
  const now = new Date();
  const registry = registryOf(c);
  if (changes.name !== undefined && (await registry.nameTaken(changes.name, current.id)))
    throw new HttpError(409, "conflict", "Conflict", `A monitor named "${changes.name}" exists.`);
  const schedule =
    changes.schedule === undefined
      ? current.schedule
      : changes.schedule === null
        ? null
        : scheduleOf(c, changes.schedule, now);
  const onDrift = changes.onDrift ?? current.onDrift;
  const enabled = changes.enabled ?? current.enabled;
  const source: MonitorSource =
    changes.source ??
    (current.sourceKind === "graph" ? { kind: "graph" } : { kind: "manifest", url: current.manifestUrl ?? "" });
  checkCombination(source, schedule, onDrift, c.env.ENVIRONMENT as string);
  const scheduleChanged = changes.schedule !== undefined || changes.enabled !== undefined;
  const updated = await registry.update(current.id, {
    ...(changes.name === undefined ? {} : { name: changes.name }),
    ...(changes.source === undefined ? {} : await sourceColumns(c, current.id, changes.source)),
    schedule,
    onDrift,
    enabled,
    nextRunAt: scheduleChanged || changes.source !== undefined ? nextRun(schedule, enabled, now) : current.nextRunAt,
    updatedAt: now.toISOString(),
  });
  if (!updated) throw notFound("The monitor");
  if (updated.sourceKind === "graph") await tenantObject(c.env, c.var.tenant).monitorWatchGraphs(c.var.tenant.id);
  return c.json(monitorView(updated), 200);
};

export const deleteMonitor: AppRouteHandler<typeof routes.deleteMonitor> = async (c) => {
  const row = await findMonitor(c, c.req.valid("param").id);
  if (!(await registryOf(c).delete(row.id, c.var.principal.subject, c.var.requestId, new Date().toISOString())))
    throw notFound("The monitor");
  await tenantObject(c.env, c.var.tenant).monitorForget(row.id, FORGET_RUNS_ON_DELETE);
  await appendMonitorChange(c, "monitor.deleted", row.id, row.name);
  return c.body(null, 204);
};

/** Runs are paged by (scheduledFor, id), newest first; the cursor is opaque to clients. */
const encodeRunCursor = (run: { scheduledFor: string; id: string }) =>
  bytesToBase64Url(utf8(JSON.stringify([run.scheduledFor, run.id])));

export const listMonitorRuns: AppRouteHandler<typeof routes.listMonitorRuns> = async (c) => {
  const monitor = await findMonitor(c, c.req.valid("param").id);
  const { limit, cursor } = c.req.valid("query");
  // The run cursor has the same two-string shape as the (createdAt, id) cursor, and the same error for a bad one.
  const before = cursor ? decodeCursor(cursor) : undefined;
  const scheduledFor = before ? Date.parse(before.createdAt) : undefined;
  if (before && Number.isNaN(scheduledFor)) throw invalidField("cursor", "Not a cursor returned by this API.", "query");
  const runs = await tenantObject(c.env, c.var.tenant).monitorRunList(
    monitor.id,
    limit,
    before ? { scheduledFor: scheduledFor as number, id: before.id } : undefined,
  );
  return c.json(
    pageOf(runs, limit, (run) => run, encodeRunCursor),
    200,
  );
};

const DAY_MS = 86_400_000;

export const monitorTrend: AppRouteHandler<typeof routes.monitorTrend> = async (c) => {
  const monitor = await findMonitor(c, c.req.valid("param").id);
  const { days } = c.req.valid("query");
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const since = today - (days - 1) * DAY_MS;
  const counted = await tenantObject(c.env, c.var.tenant).monitorTrend(monitor.id, since);
  const byDay = new Map(counted.map((entry) => [entry.day, entry]));
  const items = Array.from({ length: days }, (_, index) => {
    const day = new Date(since + index * DAY_MS).toISOString().slice(0, 10);
    const entry = byDay.get(day);
    return {
      day,
      clean: Number(entry?.clean ?? 0),
      drift: Number(entry?.drift ?? 0),
      failed: Number(entry?.failed ?? 0),
    };
  });
  return c.json({ monitorId: monitor.id, days, items }, 200);
};
