import type { z } from "@hono/zod-openapi";
import type { GraphVersionView } from "../../durable-objects/tenant/graph-service";
import { unwrap } from "../../durable-objects/tenant/rpc-outcome";
import { canonicalJson } from "../../shared/core/canonical-json";
import { utf8 } from "../../shared/core/encoding";
import { publicJwks } from "../../shared/crypto/tenant-keys";
import { type PlanName, planLimits } from "../../shared/plans";
import type { TenantSnapshot } from "../context";
import { database } from "../db/client";
import type { JobRow, TemplateRow } from "../db/schema";
import { HttpError } from "../problems/http-error";
import { ArtifactIndex } from "../repository/artifact-index";
import { JobLedger } from "../repository/jobs";
import { MonitorRegistry } from "../repository/monitors";
import { SigningKeyRing } from "../repository/signing-keys";
import { TemplateCatalog } from "../repository/templates";
import { monitorView } from "../routes/monitors/monitor-view";
import { ContentStore } from "../storage/content-store";
import { tenantObject } from "../tenant-object-stub";
import { type PendingArchiveEntry, streamArchive } from "./archive-writer";
import {
  ARCHIVE_FORMAT,
  ARCHIVE_FORMAT_VERSION,
  type ArchiveManifest,
  type archiveWebhookSchema,
  checkExportBounds,
  generatorEntry,
  graphVersionEntry,
  JWKS_ENTRY,
  jobArtifactsEntry,
  jobEntry,
  MANIFEST_ENTRY,
  MAX_ARCHIVE_ENTRIES,
  MONITORS_ENTRY,
  templateEntry,
  WEBHOOKS_ENTRY,
} from "./tenant-archive";

const PAGE = 500;
const ARTIFACT_PAGE = 500;
/** Far above every plan's monitor limit (a tenant keeps its monitors when its plan shrinks). */
const MAX_EXPORTED_MONITORS = 1000;

const exportTooLarge = (detail: string) => new HttpError(422, "export-too-large", "Export too large", detail);

async function allTemplates(catalog: TemplateCatalog): Promise<TemplateRow[]> {
  const rows: TemplateRow[] = [];
  for (;;) {
    const last = rows.at(-1);
    const page = await catalog.list(PAGE, last ? { after: { generator: last.generator, path: last.path } } : {});
    rows.push(...page.slice(0, PAGE));
    if (page.length <= PAGE) return rows;
    if (rows.length > MAX_ARCHIVE_ENTRIES) throw exportTooLarge(`More than ${MAX_ARCHIVE_ENTRIES} templates.`);
  }
}

async function allJobs(ledger: JobLedger): Promise<JobRow[]> {
  const rows: JobRow[] = [];
  for (;;) {
    const last = rows.at(-1);
    const page = await ledger.list(PAGE, last ? { createdAt: last.createdAt, id: last.id } : undefined);
    rows.push(...page.slice(0, PAGE));
    if (page.length <= PAGE) return rows.reverse();
    if (rows.length > MAX_ARCHIVE_ENTRIES) throw exportTooLarge(`More than ${MAX_ARCHIVE_ENTRIES} jobs.`);
  }
}

const jsonBytes = (value: unknown) => utf8(`${canonicalJson(value)}\n`);

/** A job's artifact index rows, one JSON line each, read page by page as the archive pulls them. */
function artifactLines(index: ArtifactIndex, jobId: string): ReadableStream<Uint8Array> {
  let after: string | undefined;
  let done = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return controller.close();
      const page = await index.list(jobId, ARTIFACT_PAGE, after, { withAttestation: true });
      const rows = page.slice(0, ARTIFACT_PAGE);
      const lines = rows.map((row) =>
        canonicalJson({
          path: row.path,
          mode: row.mode,
          chmod: row.chmod,
          sha256: row.sha256,
          size: row.size,
          templatePath: row.templatePath,
          templateHash: row.templateHash,
          dependencies: row.dependencies,
          attestationSha256: row.attestationSha256,
          attestation: row.attestation === null ? null : JSON.parse(row.attestation),
        }),
      );
      after = rows.at(-1)?.path;
      done = page.length <= ARTIFACT_PAGE;
      controller.enqueue(utf8(lines.map((line) => `${line}\n`).join("")));
    },
  });
}

/**
 * The tenant's archive as a zip stream (layout in tenant-archive.ts). The catalog (graph versions, templates,
 * jobs, monitors, webhooks) is read first, to know the archive is within bounds before a byte is sent; contents
 * stream one entry at a time.
 */
export async function exportTenant(env: Env, tenant: TenantSnapshot, now: Date): Promise<ReadableStream<Uint8Array>> {
  const db = database(env.DB);
  const stub = tenantObject(env, tenant);
  const limits = planLimits(tenant.plan as PlanName);

  const graphs = unwrap(await stub.graphList());
  const versions: GraphVersionView[] = [];
  for (const graph of graphs) versions.push(...unwrap(await stub.graphVersions(graph.graph)));
  const triples = versions.reduce((sum, version) => sum + version.triples, 0);
  checkExportBounds({ entries: versions.length, triples }, limits.triples);
  const catalog = new TemplateCatalog(db, tenant.id);
  const templates = await allTemplates(catalog);
  const generatorNames = [...new Set(templates.map((row) => row.generator))];
  const jobs = await allJobs(new JobLedger(db, tenant.id));
  const monitorRows = await new MonitorRegistry(db, tenant.id).list(MAX_EXPORTED_MONITORS);
  if (monitorRows.length > MAX_EXPORTED_MONITORS) throw exportTooLarge(`More than ${MAX_EXPORTED_MONITORS} monitors.`);
  const monitors = monitorRows.map(monitorView);
  const webhooks: z.infer<typeof archiveWebhookSchema>[] = [];
  for (let after: { createdAt: number; id: string } | undefined; ; ) {
    const page = unwrap(await stub.webhookList(100, after));
    webhooks.push(
      ...page.items.map(({ id, url, events, description, status }) => ({ id, url, events, description, status })),
    );
    if (page.next === null) break;
    after = page.next;
  }
  const entryCount = versions.length + templates.length + generatorNames.length + 2 * jobs.length + 4;
  checkExportBounds({ entries: entryCount, triples }, limits.triples);

  const store = new ContentStore(env.ARTIFACTS, tenant.id);
  const index = new ArtifactIndex(env, tenant);
  const entries: PendingArchiveEntry[] = [];
  for (const version of versions) {
    entries.push({
      name: graphVersionEntry(version.graph, version.version),
      open: async () => {
        const { body } = unwrap(await stub.graphContent(version.graph, version.version, "application/n-quads"));
        return typeof body === "string" ? utf8(body) : body;
      },
    });
  }
  for (const row of templates) {
    entries.push({
      name: templateEntry(row.generator, row.path),
      open: async () => {
        const blob = await store.get(row.hash);
        if (!blob) throw new Error(`template blob ${row.hash} missing for tenant ${tenant.id}`);
        return blob.body;
      },
    });
  }
  for (const name of generatorNames) {
    entries.push({
      name: generatorEntry(name),
      open: async () => {
        const { options } = await catalog.generatorWithOptions(name);
        return jsonBytes({ name, options: { throwOnUndefined: options.throwOnUndefined === true } });
      },
    });
  }
  for (const job of jobs) {
    entries.push({
      name: jobEntry(job.id),
      open: async () =>
        jsonBytes({
          id: job.id,
          status: job.status,
          generator: job.generator,
          lock: job.lock,
          lockHash: job.lockHash,
          params: job.params,
          dryRun: job.dryRun,
          baseJobId: job.baseJobId,
          counts: {
            total: job.total,
            artifacts: job.done,
            skipped: job.skipped,
            bytes: job.bytes,
            carried: job.carried,
          },
          error: job.error,
          createdAt: job.createdAt,
          updatedAt: job.updatedAt,
        }),
    });
    entries.push({ name: jobArtifactsEntry(job.id), open: async () => artifactLines(index, job.id) });
  }
  entries.push({ name: MONITORS_ENTRY, open: async () => jsonBytes({ items: monitors }) });
  entries.push({ name: WEBHOOKS_ENTRY, open: async () => jsonBytes({ items: webhooks }) });
  entries.push({
    name: JWKS_ENTRY,
    open: async () => jsonBytes(publicJwks(await new SigningKeyRing(db, tenant.id).all())),
  });

  return streamArchive(entries, (written) => {
    let artifacts = 0;
    for (const job of jobs) artifacts += job.done;
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      formatVersion: ARCHIVE_FORMAT_VERSION,
      tenantId: tenant.id,
      createdAt: now.toISOString(),
      counts: {
        graphs: graphs.length,
        graphVersions: versions.length,
        templates: templates.length,
        generators: generatorNames.length,
        jobs: jobs.length,
        artifacts,
        monitors: monitors.length,
        webhooks: webhooks.length,
      },
      graphs: versions.map((version) => ({
        graph: version.graph,
        version: version.version,
        hash: version.hash,
        triples: version.triples,
        entry: graphVersionEntry(version.graph, version.version),
      })),
      templates: templates.map((row) => ({
        generator: row.generator,
        path: row.path,
        entry: templateEntry(row.generator, row.path),
      })),
      generators: generatorNames.map((name) => ({ name, entry: generatorEntry(name) })),
      jobs: jobs.map((job) => ({ id: job.id, entry: jobEntry(job.id), artifacts: jobArtifactsEntry(job.id) })),
      entries: written,
    };
    return { name: MANIFEST_ENTRY, content: jsonBytes(manifest) };
  });
}
