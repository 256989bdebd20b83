import type { z } from "@hono/zod-openapi";
import { unwrap } from "../../durable-objects/tenant/rpc-outcome";
import { graphNameSchema } from "../../shared/contracts/graphs";
import { templatePathSchema } from "../../shared/contracts/lock";
import { monitorTargetSchema } from "../../shared/contracts/monitors";
import { generatorNameSchema } from "../../shared/contracts/templates";
import { createWebhookSchema } from "../../shared/contracts/webhooks";
import { randomId } from "../../shared/core/encoding";
import { assertJsonTextDepth } from "../../shared/core/json-nesting";
import { type PlanName, planLimits } from "../../shared/plans";
import { QuotaExceededError } from "../../shared/quota-errors";
import { RDF_MEDIA_TYPES } from "../../shared/rdf/formats";
import type { TenantSnapshot } from "../context";
import { database } from "../db/client";
import type { MonitorRow } from "../db/schema";
import { checkDestination, destinationPolicy, UnsafeDestinationError } from "../outbound/destination-guard";
import { HttpError } from "../problems/http-error";
import { JobLedger } from "../repository/jobs";
import { MonitorRegistry } from "../repository/monitors";
import { TemplateCatalog } from "../repository/templates";
import { ingestGraphDocument } from "../routes/graphs/graph-writes";
import {
  checkTemplateSource,
  removeTemplate,
  saveTemplate,
  type TemplateWriter,
} from "../routes/templates/template-writes";
import { tenantObject } from "../tenant-object-stub";
import { newSealedWebhookSecret } from "../webhooks/webhook-secret";
import { invalidArchive, type VerifiedArchive } from "./archive-reader";
import {
  archiveGeneratorSchema,
  archiveMonitorSchema,
  archiveWebhookSchema,
  MONITORS_ENTRY,
  WEBHOOKS_ENTRY,
} from "./tenant-archive";

export interface ImportReport {
  sourceTenantId: string;
  exportedAt: string;
  counts: { graphVersions: number; templates: number; generators: number; monitors: number; webhooks: number };
  /** Each archived graph version and the version it became here (identical content keeps one version). */
  graphs: { graph: string; archivedVersion: number; version: number; hash: string | null }[];
  monitors: { archivedId: string; id: string }[];
  /** Restored disabled, with new signing secrets shown only here. */
  webhooks: { archivedId: string; id: string; secret: string }[];
  /** Archived jobs are history: they are not restored (regenerate from the restored graphs and templates). */
  jobsNotRestored: number;
  skipped: { kind: "monitor" | "webhook"; archivedId: string; reason: string }[];
}

/** 409 unless the tenant has no graphs, templates or jobs: an import restores into an empty tenant only. */
export async function assertEmptyTenant(env: Env, tenant: TenantSnapshot): Promise<void> {
  const db = database(env.DB);
  const [graphs, templates, jobs] = await Promise.all([
    tenantObject(env, tenant).graphList(),
    new TemplateCatalog(db, tenant.id).list(1),
    new JobLedger(db, tenant.id).list(1),
  ]);
  if (unwrap(graphs).length > 0 || templates.length > 0 || jobs.length > 0) {
    throw new HttpError(
      409,
      "tenant-not-empty",
      "Tenant not empty",
      "An archive is imported into a tenant without graphs, templates or jobs only.",
    );
  }
}

function jsonEntry(archive: VerifiedArchive, name: string): unknown {
  const bytes = archive.entries.get(name);
  if (!bytes) throw invalidArchive(`Entry ${JSON.stringify(name)} is missing.`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalidArchive(`Entry ${JSON.stringify(name)} is not UTF-8.`);
  }
  assertJsonTextDepth(text, name);
  try {
    return JSON.parse(text);
  } catch {
    throw invalidArchive(`Entry ${JSON.stringify(name)} is not JSON.`);
  }
}

function parsed<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw invalidArchive(`${what} is invalid (${issue?.path.join(".") || "value"}: ${issue?.message}).`);
  }
  return result.data;
}

const itemsOf = <T extends z.ZodType>(archive: VerifiedArchive, name: string, item: T): z.infer<T>[] => {
  const document = jsonEntry(archive, name) as { items?: unknown };
  if (typeof document !== "object" || document === null || !Array.isArray(document.items)) {
    throw invalidArchive(`Entry ${JSON.stringify(name)} is not {"items": [...]}.`);
  }
  return document.items.map((value, index) => parsed(item, value, `${name} item ${index}`));
};

interface RestorePlan {
  graphs: { graph: string; version: number; hash: string | null; content: Uint8Array }[];
  templates: { generator: string; path: string; source: string }[];
  generators: { name: string; options: { throwOnUndefined?: boolean } }[];
  monitors: Omit<MonitorRow, "tenantId" | "createdBy" | "createdAt" | "updatedAt">[];
  monitorIds: Map<string, string>;
  webhooks: { archivedId: string; url: string; events: string[]; description: string | null }[];
  skipped: ImportReport["skipped"];
}

function isAllowedDestination(env: Env, url: string): boolean {
  try {
    checkDestination(url, destinationPolicy(env.ENVIRONMENT));
    return true;
  } catch (error) {
    if (error instanceof UnsafeDestinationError) return false;
    throw error;
  }
}

/** Everything the archive restores, checked as the routes that write it would check it: nothing is written yet. */
function planRestore(env: Env, tenant: TenantSnapshot, archive: VerifiedArchive): RestorePlan {
  const { manifest } = archive;
  const limits = planLimits(tenant.plan as PlanName);
  const entry = (name: string) => archive.entries.get(name) as Uint8Array;

  const graphs = manifest.graphs
    .map((version) => {
      parsed(graphNameSchema, version.graph, `Graph name ${JSON.stringify(version.graph)}`);
      if (version.triples > limits.triples) {
        throw new QuotaExceededError(
          "triples",
          limits.triples,
          version.triples,
          `Graph ${version.graph} version ${version.version} holds ${version.triples} triples; the ${tenant.plan} plan allows ${limits.triples}.`,
        );
      }
      const content = entry(version.entry);
      if (content.byteLength > limits.maxRequestBodyBytes) {
        throw new HttpError(
          413,
          "archive-too-large",
          "Archive too large",
          `Graph ${version.graph} version ${version.version} is larger than the plan's ${limits.maxRequestBodyBytes}-byte upload limit.`,
        );
      }
      return { graph: version.graph, version: version.version, hash: version.hash, content };
    })
    .sort((a, b) => (a.graph < b.graph ? -1 : a.graph > b.graph ? 1 : a.version - b.version));

  if (manifest.templates.length > limits.templates) {
    throw new QuotaExceededError(
      "templates",
      limits.templates,
      manifest.templates.length,
      `The archive holds ${manifest.templates.length} templates; the ${tenant.plan} plan allows ${limits.templates}.`,
    );
  }
  const templates = manifest.templates.map((template) => {
    parsed(generatorNameSchema, template.generator, `Generator name ${JSON.stringify(template.generator)}`);
    parsed(templatePathSchema, template.path, `Template path ${JSON.stringify(template.path)}`);
    let source: string;
    try {
      source = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(entry(template.entry));
    } catch {
      throw invalidArchive(`Template ${template.generator}/${template.path} is not UTF-8.`);
    }
    checkTemplateSource(source);
    return { generator: template.generator, path: template.path, source };
  });
  const generators = manifest.generators.map((generator) => {
    const settings = parsed(archiveGeneratorSchema, jsonEntry(archive, generator.entry), generator.entry);
    if (settings.name !== generator.name) throw invalidArchive(`${generator.entry} names another generator.`);
    parsed(generatorNameSchema, settings.name, `Generator name ${JSON.stringify(settings.name)}`);
    return settings;
  });

  const skipped: ImportReport["skipped"] = [];
  const monitors: RestorePlan["monitors"] = [];
  const monitorIds = new Map<string, string>();
  for (const monitor of itemsOf(archive, MONITORS_ENTRY, archiveMonitorSchema)) {
    const target = monitorTargetSchema.safeParse(monitor.target);
    const skip = (reason: string) => skipped.push({ kind: "monitor", archivedId: monitor.id, reason });
    if (!target.success) skip("Its target is not a valid monitor target.");
    else if ("job" in target.data) skip("It watches a job, and archived jobs are not restored.");
    else if ((monitor.source.headerNames ?? []).length > 0)
      skip("Its manifest request headers are secrets, which an archive does not hold.");
    else if (monitors.length >= limits.monitors) skip(`The ${tenant.plan} plan allows ${limits.monitors} monitors.`);
    else if (monitor.source.kind === "manifest" && !isAllowedDestination(env, monitor.source.url ?? ""))
      skip("Its manifest URL is refused here.");
    else {
      const id = randomId("mon");
      monitorIds.set(monitor.id, id);
      monitors.push({
        id,
        name: monitor.name,
        target: target.data,
        sourceKind: monitor.source.kind,
        graph: target.data.graph,
        manifestUrl: monitor.source.kind === "manifest" ? (monitor.source.url ?? null) : null,
        headerNames: null,
        encryptedHeaders: null,
        schedule: monitor.schedule,
        onDrift: monitor.onDrift,
        enabled: false,
        nextRunAt: null,
      });
    }
  }

  const webhooks: RestorePlan["webhooks"] = [];
  for (const webhook of itemsOf(archive, WEBHOOKS_ENTRY, archiveWebhookSchema)) {
    const valid = createWebhookSchema.safeParse({
      url: webhook.url,
      events: webhook.events,
      description: webhook.description ?? undefined,
    });
    if (!valid.success) {
      skipped.push({ kind: "webhook", archivedId: webhook.id, reason: "Its subscription is not valid here." });
      continue;
    }
    try {
      const url = checkDestination(valid.data.url, destinationPolicy(env.ENVIRONMENT)).href;
      webhooks.push({ archivedId: webhook.id, url, events: valid.data.events, description: webhook.description });
    } catch (error) {
      if (!(error instanceof UnsafeDestinationError)) throw error;
      skipped.push({ kind: "webhook", archivedId: webhook.id, reason: `Its URL is refused here: ${error.message}` });
    }
  }
  return { graphs, templates, generators, monitors, monitorIds, webhooks, skipped };
}

/**
 * Restores a verified archive into an empty tenant: graphs version by version (their hashes checked against
 * the archive's), templates, monitors and webhooks (both disabled), generator settings. On any failure what
 * was written is removed again before the error is answered.
 */
export async function importTenant(
  env: Env,
  tenant: TenantSnapshot,
  writer: TemplateWriter,
  archive: VerifiedArchive,
): Promise<ImportReport> {
  const plan = planRestore(env, tenant, archive);
  const db = database(env.DB);
  const stub = tenantObject(env, tenant);
  const registry = new MonitorRegistry(db, tenant.id);
  const written = {
    graphs: new Set<string>(),
    templates: [] as { generator: string; path: string }[],
    monitors: [] as string[],
    webhooks: [] as string[],
  };
  const report: ImportReport = {
    sourceTenantId: archive.manifest.tenantId,
    exportedAt: archive.manifest.createdAt,
    counts: { graphVersions: 0, templates: 0, generators: 0, monitors: 0, webhooks: 0 },
    graphs: [],
    monitors: [],
    webhooks: [],
    jobsNotRestored: archive.manifest.jobs.length,
    skipped: plan.skipped,
  };
  try {
    for (const version of plan.graphs) {
      written.graphs.add(version.graph);
      const committed = await ingestGraphDocument(
        env,
        tenant,
        version.graph,
        RDF_MEDIA_TYPES.nquads,
        new Response(version.content).body,
      );
      if (version.hash !== null && committed.version.hash !== version.hash) {
        throw invalidArchive(
          `Graph ${version.graph} version ${version.version} restores with hash ${committed.version.hash}, not the archived ${version.hash}.`,
        );
      }
      report.graphs.push({
        graph: version.graph,
        archivedVersion: version.version,
        version: committed.version.version,
        hash: committed.version.hash,
      });
      if (committed.created) report.counts.graphVersions++;
    }
    for (const template of plan.templates) {
      await saveTemplate(env, tenant, writer, template, template.source);
      written.templates.push(template);
      report.counts.templates++;
    }
    const now = new Date().toISOString();
    for (const monitor of plan.monitors) {
      const created = await registry.create(
        { ...monitor, createdBy: writer.actor, createdAt: now, updatedAt: now },
        planLimits(tenant.plan as PlanName).monitors,
        writer.requestId,
      );
      if (!created.created) {
        throw invalidArchive(`Monitor ${JSON.stringify(monitor.name)} could not be restored (${created.reason}).`);
      }
      written.monitors.push(monitor.id);
      await stub.appendEvent({
        type: "monitor.created",
        data: { monitorId: monitor.id, name: monitor.name },
        createdAt: Date.now(),
        idempotencyKey: `monitor.created:${monitor.id}`,
      });
      report.counts.monitors++;
    }
    for (const [archivedId, id] of plan.monitorIds) report.monitors.push({ archivedId, id });
    for (const webhook of plan.webhooks) {
      const id = randomId("wh");
      const { secret, sealed } = await newSealedWebhookSecret(env, tenant.id, id);
      unwrap(
        await stub.webhookCreate({
          tenantId: tenant.id,
          id,
          url: webhook.url,
          events: webhook.events,
          description: webhook.description,
          secret: sealed,
          now: Date.now(),
        }),
      );
      written.webhooks.push(id);
      unwrap(await stub.webhookUpdate(tenant.id, id, { status: "disabled" }, Date.now()));
      report.webhooks.push({ archivedId: webhook.archivedId, id, secret });
      report.counts.webhooks++;
    }
    const catalog = new TemplateCatalog(db, tenant.id);
    for (const generator of plan.generators) {
      await catalog.setGeneratorOptions(generator.name, generator.options, writer.actor, writer.requestId, now);
      report.counts.generators++;
    }
  } catch (error) {
    await undo(env, tenant, writer, written);
    throw error;
  }
  return report;
}

/** Removes what a failed import wrote, newest first. */
async function undo(
  env: Env,
  tenant: TenantSnapshot,
  writer: TemplateWriter,
  written: {
    graphs: Set<string>;
    templates: { generator: string; path: string }[];
    monitors: string[];
    webhooks: string[];
  },
): Promise<void> {
  const stub = tenantObject(env, tenant);
  const now = new Date().toISOString();
  for (const id of written.webhooks) await stub.webhookDelete(id, Date.now());
  const registry = new MonitorRegistry(database(env.DB), tenant.id);
  for (const id of written.monitors) await registry.delete(id, writer.actor, writer.requestId, now);
  for (const template of written.templates) await removeTemplate(env, tenant, writer, template);
  for (const graph of written.graphs) await stub.graphDelete(graph);
}
