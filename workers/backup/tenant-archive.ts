import { z } from "@hono/zod-openapi";
import { HttpError } from "../problems/http-error";

/**
 * The tenant archive (`GET /v1/export`, `POST /v1/import`): a zip whose last entry, `manifest.json`,
 * names every other entry with its sha256 and size. Layout (docs/operations.md "Backup, export and import"):
 *
 *   graphs/<name>/<version>.nq      every stored version of every graph, as N-Quads
 *   templates/<generator>/<path>    template sources
 *   generators/<name>.json          a generator's render options
 *   jobs/<id>/job.json              a job's lock, params, status and counts
 *   jobs/<id>/artifacts.jsonl       its artifact index rows, one JSON object a line, with attestation envelopes
 *   monitors.json                   monitors, without sealed manifest headers
 *   webhooks.json                   webhook subscriptions, without secrets
 *   keys/jwks.json                  the tenant's public signing keys
 *   manifest.json                   format version, tenant, time, counts, graph hashes, every entry's sha256
 */
export const ARCHIVE_FORMAT = "kgen-tenant-archive";
export const ARCHIVE_FORMAT_VERSION = 1;
export const MANIFEST_ENTRY = "manifest.json";
export const MONITORS_ENTRY = "monitors.json";
export const WEBHOOKS_ENTRY = "webhooks.json";
export const JWKS_ENTRY = "keys/jwks.json";

/** Entries one archive may hold (export refuses more, import rejects more). */
export const MAX_ARCHIVE_ENTRIES = 20_000;

/** Stored versions an export reads back, as a multiple of the plan's triple limit. */
export const EXPORT_TRIPLES_FACTOR = 10;

/** 422 `export-too-large` when an archive would hold more entries, or its graph versions more triples, than allowed. */
export function checkExportBounds(archive: { entries: number; triples: number }, planTriples: number): void {
  const maxTriples = planTriples * EXPORT_TRIPLES_FACTOR;
  if (archive.triples > maxTriples) {
    throw new HttpError(
      422,
      "export-too-large",
      "Export too large",
      `The stored graph versions hold ${archive.triples} triples; an export reads at most ${maxTriples}. Prune old versions first.`,
    );
  }
  if (archive.entries > MAX_ARCHIVE_ENTRIES) {
    throw new HttpError(
      422,
      "export-too-large",
      "Export too large",
      `The archive would hold ${archive.entries} entries; at most ${MAX_ARCHIVE_ENTRIES} are allowed.`,
    );
  }
}

export const graphVersionEntry = (graph: string, version: number) => `graphs/${graph}/${version}.nq`;
export const templateEntry = (generator: string, path: string) => `templates/${generator}/${path}`;
export const generatorEntry = (generator: string) => `generators/${generator}.json`;
export const jobEntry = (jobId: string) => `jobs/${jobId}/job.json`;
export const jobArtifactsEntry = (jobId: string) => `jobs/${jobId}/artifacts.jsonl`;

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

export const archiveEntrySchema = z.object({
  name: z.string().min(1).max(1024),
  sha256: sha256Schema,
  size: z.number().int().nonnegative(),
});

export const archiveGraphVersionSchema = z.object({
  graph: z.string().min(1).max(256),
  version: z.number().int().positive(),
  /** The version's canonical (RDFC-1.0) hash as the graph API reports it (null where the store did not hash it). */
  hash: z.string().min(1).max(128).nullable(),
  triples: z.number().int().nonnegative(),
  entry: z.string(),
});

export const archiveTemplateSchema = z.object({
  generator: z.string().min(1).max(256),
  path: z.string().min(1).max(1024),
  entry: z.string(),
});

export const archiveManifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  formatVersion: z.literal(ARCHIVE_FORMAT_VERSION),
  tenantId: z.string(),
  createdAt: z.string(),
  counts: z.object({
    graphs: z.number().int().nonnegative(),
    graphVersions: z.number().int().nonnegative(),
    templates: z.number().int().nonnegative(),
    generators: z.number().int().nonnegative(),
    jobs: z.number().int().nonnegative(),
    artifacts: z.number().int().nonnegative(),
    monitors: z.number().int().nonnegative(),
    webhooks: z.number().int().nonnegative(),
  }),
  graphs: z.array(archiveGraphVersionSchema),
  templates: z.array(archiveTemplateSchema),
  generators: z.array(z.object({ name: z.string().min(1).max(256), entry: z.string() })),
  jobs: z.array(z.object({ id: z.string(), entry: z.string(), artifacts: z.string() })),
  entries: z.array(archiveEntrySchema).max(MAX_ARCHIVE_ENTRIES),
});

export type ArchiveManifest = z.infer<typeof archiveManifestSchema>;
export type ArchiveEntry = z.infer<typeof archiveEntrySchema>;

export const archiveGeneratorSchema = z.object({
  name: z.string(),
  options: z.object({ throwOnUndefined: z.boolean().optional() }).strict(),
});

export const archiveMonitorSchema = z.object({
  id: z.string(),
  name: z.string().min(1).max(256),
  target: z.record(z.string(), z.unknown()),
  source: z.object({
    kind: z.enum(["graph", "manifest"]),
    url: z.string().optional(),
    headerNames: z.array(z.string()).optional(),
  }),
  schedule: z.string().nullable(),
  onDrift: z.enum(["report", "regenerate"]),
  enabled: z.boolean(),
});

export const archiveWebhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  status: z.enum(["enabled", "disabled"]),
});
