import { eq, sum } from "drizzle-orm";
import type { StoredKind } from "../../durable-objects/tenant/stored-bytes";
import { database } from "../db/client";
import type { TenantRow } from "../db/schema";
import { jobs } from "../db/schema";
import { ArtifactIndex } from "../repository/artifact-index";
import { JobLedger } from "../repository/jobs";
import { TemplateCatalog } from "../repository/templates";
import { contentKey } from "../storage/content-store";
import { tenantObject } from "../tenant-object-stub";
import { liveTenantPage, readCursor, writeCursor } from "./tenant-cursor";

/** The tenant whose blobs are collected: its id, and where its Durable Object lives. */
type TenantRef = Pick<TenantRow, "id" | "jurisdiction">;

/**
 * An unreferenced blob is deleted only once it is older than this, and once this long has passed since
 * retention released it. Far longer than any batch write (a queue consumer runs for minutes at most).
 */
export const BLOB_GRACE_MS = 6 * 3_600_000;
/** Referenced blobs the mark phase holds per tenant; a tenant with more is not swept (logged, nothing deleted). */
export const MAX_MARKED_BLOBS = 200_000;
/** R2 listing pages (of LIST_PAGE_SIZE keys) one run sweeps per tenant; a tenant with more continues in the next run. */
export const LIST_PAGES_PER_RUN = 20;
export const LIST_PAGE_SIZE = 1000;
/** Tenants one run collects, one after the other (each holds its mark set in memory). */
export const COLLECTION_TENANTS_PER_RUN = 10;
const TASK = "blob-collection";

type BlobKind = Exclude<StoredKind, "artifacts" | "events">;
type Totals = Record<BlobKind, { bytes: number; objects: number }>;

const emptyTotals = (): Totals => ({
  packs: { bytes: 0, objects: 0 },
  templateSources: { bytes: 0, objects: 0 },
  attestations: { bytes: 0, objects: 0 },
  unreferenced: { bytes: 0, objects: 0 },
});

/** Where a tenant's sweep stopped: its R2 listing cursor and what it counted so far. */
export interface SweepProgress {
  listCursor: string;
  totals: Totals;
  deleted: number;
}

export type TenantCollection =
  | { status: "done"; deleted: number; totals: Totals }
  | { status: "partial"; progress: SweepProgress }
  | { status: "skipped"; reason: string };

/**
 * Mark: every blob a retained record references, one bounded query per store: the artifact index
 * (packs, contents stored before packs, attestations stored before rows held them), the template
 * catalog (current sources) and the job ledger (the sources every retained job's lock names, so a job
 * can be replayed). Null when a store references more than MAX_MARKED_BLOBS.
 */
async function markReferencedBlobs(env: Env, tenant: TenantRef): Promise<Map<string, BlobKind> | null> {
  const tenantId = tenant.id;
  const db = database(env.DB);
  const [indexed, sources, locked] = await Promise.all([
    new ArtifactIndex(env, tenant).referencedBlobs(MAX_MARKED_BLOBS + 1),
    new TemplateCatalog(db, tenantId).sourceHashes(MAX_MARKED_BLOBS + 1),
    new JobLedger(db, tenantId).lockedTemplateHashes(MAX_MARKED_BLOBS + 1),
  ]);
  if (Math.max(indexed.length, sources.length, locked.length) > MAX_MARKED_BLOBS) return null;
  const marks = new Map<string, BlobKind>();
  for (const sha256 of [...sources, ...locked]) marks.set(sha256, "templateSources");
  // A blob both a template and an artifact's bytes (the same content) counts as a pack.
  for (const { sha256, kind } of indexed) marks.set(sha256, kind);
  return marks;
}

/**
 * Collects one tenant's blobs: marks what its records reference, then lists `t/{tenant}/sha256/` in pages
 * and deletes each unmarked blob that is older than BLOB_GRACE_MS and was not released by retention within
 * BLOB_GRACE_MS. Only this tenant's prefix is listed: another tenant's blobs, the same content included,
 * are other keys.
 *
 * Why nothing referenced is ever deleted (`now` is the run's clock):
 * - A record that exists when the mark runs references a marked blob: it is kept.
 * - A record written after the mark points either at a blob its writer just wrote (a new pack, a template
 *   source: `put` always writes, so the blob's upload time is at most minutes old, inside the grace), or at
 *   a blob its writer found in the index (a deduplicated content). That blob was referenced when the writer
 *   looked it up; if it is unmarked now, retention deleted those rows in between and recorded the release,
 *   and the blob stays for BLOB_GRACE_MS after it, longer than the writer takes to record its rows.
 * - A job created during the sweep, whose pack is written and whose rows are not, is the first case.
 */
export async function collectTenantBlobs(
  env: Env,
  tenant: TenantRef,
  now: number,
  resume?: SweepProgress,
  { maxPages = LIST_PAGES_PER_RUN, pageSize = LIST_PAGE_SIZE }: { maxPages?: number; pageSize?: number } = {},
): Promise<TenantCollection> {
  const tenantId = tenant.id;
  const index = new ArtifactIndex(env, tenant);
  const graceStart = new Date(now - BLOB_GRACE_MS).toISOString();
  const [marks, released] = await Promise.all([
    markReferencedBlobs(env, tenant),
    index.releasedSince(graceStart, MAX_MARKED_BLOBS + 1),
  ]);
  if (marks === null || released.length > MAX_MARKED_BLOBS) {
    return { status: "skipped", reason: `more than ${MAX_MARKED_BLOBS} referenced blobs` };
  }
  const recentlyReleased = new Set(released);
  const prefix = contentKey(tenantId, "");
  const totals = resume?.totals ?? emptyTotals();
  let deleted = resume?.deleted ?? 0;
  let cursor = resume?.listCursor;
  for (let page = 0; page < maxPages; page++) {
    const listing = await env.ARTIFACTS.list({ prefix, cursor, limit: pageSize });
    const doomed: string[] = [];
    for (const object of listing.objects) {
      const sha256 = object.key.slice(prefix.length);
      const kind = marks.get(sha256);
      if (kind) {
        totals[kind].bytes += object.size;
        totals[kind].objects += 1;
      } else if (object.uploaded.getTime() > now - BLOB_GRACE_MS || recentlyReleased.has(sha256)) {
        totals.unreferenced.bytes += object.size;
        totals.unreferenced.objects += 1;
      } else {
        doomed.push(object.key);
      }
    }
    if (doomed.length > 0) {
      await env.ARTIFACTS.delete(doomed);
      deleted += doomed.length;
    }
    if (!listing.truncated) {
      await index.forgetReleasesBefore(graceStart);
      return { status: "done", deleted, totals };
    }
    cursor = listing.cursor;
  }
  return { status: "partial", progress: { listCursor: cursor as string, totals, deleted } };
}

/** The retained jobs' artifacts as written: their count and bytes, from the job rows (one aggregate). */
async function artifactTotals(env: Env, tenantId: string): Promise<{ bytes: number; objects: number }> {
  const row = await database(env.DB)
    .select({ bytes: sum(jobs.bytes), objects: sum(jobs.done) })
    .from(jobs)
    .where(eq(jobs.tenantId, tenantId))
    .get();
  return { bytes: Number(row?.bytes ?? 0), objects: Number(row?.objects ?? 0) };
}

/** Sends a finished sweep's totals, with the artifact totals, to the tenant's object (read by GET /v1/usage). */
async function recordStoredBytes(
  env: Env,
  tenant: { id: string; jurisdiction: string | null },
  totals: Totals,
  now: number,
): Promise<void> {
  const artifacts = await artifactTotals(env, tenant.id);
  await tenantObject(env, tenant).recordStoredBytes({
    measuredAt: now,
    kinds: [
      { kind: "artifacts", ...artifacts },
      ...(Object.entries(totals) as [BlobKind, { bytes: number; objects: number }][]).map(([kind, total]) => ({
        kind,
        ...total,
      })),
    ],
  });
}

interface CollectionCursor {
  /** Tenants up to this id are done in the current pass. */
  after: string;
  /** The tenant after `after` whose sweep stopped part way, and where. */
  resume?: { tenantId: string; progress: SweepProgress };
}

export interface BlobCollectionRun {
  tenants: number;
  deleted: number;
  skipped: number;
  failed: number;
  /** Where the next run starts (JSON of the cursor). */
  nextPosition: string;
}

/**
 * The collector's cron task: the next `tenantsPerRun` tenants in id order after the stored cursor, one after
 * the other, each swept for at most LIST_PAGES_PER_RUN listing pages; a tenant whose listing goes on is
 * resumed by the next run from its listing cursor (with a fresh mark: marks are never carried over).
 */
export async function collectBlobs(
  env: Env,
  scheduledTime: number,
  tenantsPerRun = COLLECTION_TENANTS_PER_RUN,
): Promise<BlobCollectionRun> {
  const db = database(env.DB);
  const stored = await readCursor(db, TASK);
  const cursor: CollectionCursor = stored ? (JSON.parse(stored) as CollectionCursor) : { after: "" };
  const page = await liveTenantPage(db, cursor.after, tenantsPerRun);
  const run = { tenants: 0, deleted: 0, skipped: 0, failed: 0 };
  let next: CollectionCursor = { after: page.length < tenantsPerRun ? "" : (page[page.length - 1]?.id as string) };
  let after = cursor.after;
  for (const tenant of page) {
    run.tenants += 1;
    const resume = cursor.resume?.tenantId === tenant.id ? cursor.resume.progress : undefined;
    try {
      const outcome = await collectTenantBlobs(env, tenant, scheduledTime, resume);
      if (outcome.status === "partial") {
        next = { after, resume: { tenantId: tenant.id, progress: outcome.progress } };
        break;
      }
      if (outcome.status === "skipped") {
        run.skipped += 1;
        console.warn(
          JSON.stringify({ level: "warn", msg: "blob collection skipped", tenant: tenant.id, reason: outcome.reason }),
        );
      } else {
        run.deleted += outcome.deleted;
        await recordStoredBytes(env, tenant, outcome.totals, scheduledTime);
      }
    } catch (error) {
      run.failed += 1;
      console.error(
        JSON.stringify({ level: "error", msg: "blob collection failed", tenant: tenant.id, reason: String(error) }),
      );
    }
    after = tenant.id;
  }
  const nextPosition = JSON.stringify(next);
  await writeCursor(db, TASK, nextPosition, scheduledTime);
  return { ...run, nextPosition };
}
