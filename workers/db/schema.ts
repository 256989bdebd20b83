import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { FlagOverrides } from "../../shared/contracts/flags";

/** Control-plane tables in D1. Every tenant-owned table carries `tenant_id`. */

export const tenants = sqliteTable(
  "tenants",
  {
    id: text("id").primaryKey(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    plan: text("plan").notNull(),
    jurisdiction: text("jurisdiction"),
    /** `erasing`: deleted, its data being erased by a tenant erasure; every reader treats it as gone. */
    status: text("status", { enum: ["active", "suspended", "erasing"] })
      .notNull()
      .default("active"),
    /** Operator overrides of feature flags (shared/contracts/flags.ts); flags not named follow the plan. */
    flags: text("flags", { mode: "json" }).$type<FlagOverrides>().notNull().default({}),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("tenants_slug_unique").on(t.slug)],
);

/** People or service identities from an external identity provider, with their role in a tenant. */
export const members = sqliteTable(
  "members",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    subject: text("subject").notNull(),
    role: text("role", { enum: ["owner", "admin", "editor", "viewer"] }).notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("members_tenant_subject_unique").on(t.tenantId, t.subject)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    role: text("role", { enum: ["owner", "admin", "editor", "viewer"] }).notNull(),
    prefix: text("prefix").notNull(),
    secretHash: text("secret_hash").notNull(),
    expiresAt: text("expires_at"),
    createdAt: text("created_at").notNull(),
    createdBy: text("created_by"),
  },
  (t) => [
    uniqueIndex("api_keys_secret_hash_unique").on(t.secretHash),
    index("api_keys_tenant_idx").on(t.tenantId, t.id),
  ],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id"),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target"),
    requestId: text("request_id"),
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: text("created_at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
  },
  (t) => [index("audit_log_tenant_idx").on(t.tenantId, t.id)],
);

export type TenantRow = typeof tenants.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type MemberRow = typeof members.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;

/** Template metadata; the source itself is in R2 at `t/{tenant}/sha256/{hash}`. */
export const templates = sqliteTable(
  "templates",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    generator: text("generator").notNull(),
    path: text("path").notNull(),
    hash: text("hash").notNull(),
    size: integer("size").notNull(),
    frontmatter: text("frontmatter", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    variables: text("variables", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("templates_tenant_generator_path_unique").on(t.tenantId, t.generator, t.path)],
);

export type TemplateRow = typeof templates.$inferSelect;

/** Settings of a generator (the set of templates sharing a generator name): render options its jobs default to. */
export const generatorSettings = sqliteTable(
  "generator_settings",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    generator: text("generator").notNull(),
    options: text("options", { mode: "json" }).$type<{ throwOnUndefined?: boolean }>().notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.generator] })],
);

export type GeneratorSettingsRow = typeof generatorSettings.$inferSelect;

/** A tenant's provenance signing keys (Ed25519); the private half is AES-GCM encrypted. */
export const signingKeys = sqliteTable(
  "signing_keys",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    kid: text("kid").notNull(),
    status: text("status", { enum: ["active", "retired"] }).notNull(),
    publicJwk: text("public_jwk", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    encryptedPrivateKey: text("encrypted_private_key").notNull(),
    createdAt: text("created_at").notNull(),
    retiredAt: text("retired_at"),
  },
  (t) => [uniqueIndex("signing_keys_tenant_kid_unique").on(t.tenantId, t.kid)],
);

export const jobs = sqliteTable(
  "jobs",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    status: text("status", { enum: ["queued", "running", "completed", "failed"] }).notNull(),
    /** The generator the job ran (its lock's `generator.name`): retention keeps the newest jobs per generator. */
    generator: text("generator").notNull().default(""),
    /** A pinned job is never expired by retention. */
    pinned: integer("pinned", { mode: "boolean" }).notNull().default(false),
    lock: text("lock", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    lockHash: text("lock_hash").notNull(),
    params: text("params", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    dryRun: integer("dry_run", { mode: "boolean" }).notNull().default(false),
    total: integer("total").notNull().default(0),
    done: integer("done").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    bytes: integer("bytes").notNull().default(0),
    /** An incremental job's base: the completed job whose unchanged artifacts it carries over. */
    baseJobId: text("base_job_id"),
    /** Of `total`, the units an incremental job carries over from its base instead of rendering them. */
    carried: integer("carried").notNull().default(0),
    error: text("error"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("jobs_tenant_idx").on(t.tenantId, t.createdAt, t.id),
    // Retention ranks a tenant's jobs per generator and status, newest first.
    index("jobs_retention_idx").on(t.tenantId, t.generator, t.status, t.createdAt),
  ],
);

/**
 * Legacy: artifact rows written while the artifact index was kept in D1. The index now lives in the tenant's
 * Durable Object; this table gets no new rows, is read as a fallback by ArtifactIndex and emptied by the
 * cron's migration (workers/maintenance/migrate-artifact-index.ts).
 */
export const artifacts = sqliteTable(
  "artifacts",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    jobId: text("job_id")
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    path: text("path").notNull(),
    sha256: text("sha256").notNull(),
    size: integer("size").notNull(),
    mode: text("mode").notNull(),
    chmod: text("chmod"),
    templatePath: text("template_path").notNull(),
    templateHash: text("template_hash").notNull(),
    dependencies: text("dependencies", { mode: "json" }).$type<{ query: string; resultSha256: string }[]>().notNull(),
    /** sha256 of the attestation's bytes: the canonical JSON of the DSSE envelope (`attestation` below). */
    attestationSha256: text("attestation_sha256").notNull(),
    /**
     * The DSSE envelope as canonical JSON, stored with the row (one write per artifact, no second R2 object).
     * Null on rows written before migration 0002: their envelope is the R2 blob named by attestationSha256.
     */
    attestation: text("attestation"),
    /**
     * Where the bytes are: the R2 blob `pack_sha256` (content-addressed like every blob) from `pack_offset`,
     * `size` bytes long; a pack holds the new contents of one written batch. Null on rows written before
     * migration 0002: their bytes are the blob named by `sha256` itself.
     */
    packSha256: text("pack_sha256"),
    packOffset: integer("pack_offset"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("artifacts_job_path_unique").on(t.jobId, t.path),
    index("artifacts_tenant_sha_idx").on(t.tenantId, t.sha256),
    // Covers the job-progress recount (count and bytes of a job's rows) after every written batch, so it
    // reads index entries instead of whole rows (which carry the attestation).
    index("artifacts_job_progress_idx").on(t.jobId, t.tenantId, t.size),
    // The collector's mark phase: the distinct packs (and pre-pack contents) of a tenant from the index alone.
    index("artifacts_tenant_pack_idx").on(t.tenantId, t.packSha256, t.sha256),
  ],
);

/**
 * One row per written unit batch of a job, with the units its templates skipped: the job's `skipped`
 * count is their sum, so a redelivered batch (same key) is counted once however far it got before.
 */
/** Legacy, like `artifacts`: the skipped count of each unit batch written while the index was kept in D1. */
export const jobBatches = sqliteTable(
  "job_batches",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    jobId: text("job_id").notNull(),
    batchKey: text("batch_key").notNull(),
    skipped: integer("skipped").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.jobId, t.batchKey] })],
);

export type SigningKeyRow = typeof signingKeys.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type ArtifactRow = typeof artifacts.$inferSelect;

/**
 * Inbound webhooks that start generations. Kept in D1, not in the tenant's Durable Object, because the
 * public hook URL names only the trigger: its row is what leads to the tenant.
 */
export const triggers = sqliteTable(
  "triggers",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    verify: text("verify", { enum: ["github", "standard-webhooks"] }).notNull(),
    action: text("action", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    filter: text("filter", { mode: "json" }).$type<Record<string, unknown>>(),
    /** The signing secret, sealed with secret-box under the tenant's key (purpose `trigger-secret:<id>`). */
    encryptedSecret: text("encrypted_secret").notNull(),
    createdAt: text("created_at").notNull(),
    createdBy: text("created_by").notNull(),
  },
  (t) => [
    uniqueIndex("triggers_tenant_name_unique").on(t.tenantId, t.name),
    index("triggers_tenant_idx").on(t.tenantId, t.createdAt, t.id),
  ],
);

/**
 * One row per accepted delivery of a trigger, claimed before its job starts: the primary key makes a
 * repeated or concurrent delivery find the first one's row instead of starting a second job.
 */
export const triggerDeliveries = sqliteTable(
  "trigger_deliveries",
  {
    triggerId: text("trigger_id")
      .notNull()
      .references(() => triggers.id, { onDelete: "cascade" }),
    deliveryId: text("delivery_id").notNull(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** The job the delivery started; null while its action runs, and for actions that start none. */
    jobId: text("job_id"),
    receivedAt: text("received_at").notNull(),
    /** Set when the action finished; a claim without it is in progress (or abandoned, once stale). */
    completedAt: text("completed_at"),
  },
  (t) => [
    primaryKey({ columns: [t.triggerId, t.deliveryId] }),
    index("trigger_deliveries_received_idx").on(t.receivedAt),
  ],
);

export type TriggerRow = typeof triggers.$inferSelect;
export type TriggerDeliveryRow = typeof triggerDeliveries.$inferSelect;

/** Where a cron task that pages through all tenants left off (one row per task). */
export const maintenanceCursors = sqliteTable("maintenance_cursors", {
  task: text("task").primaryKey(),
  position: text("position").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/**
 * One row per deleted tenant: the state of the queued erasure of its data. Kept after completion as the
 * record that the tenant was erased (it names the tenant by id only).
 */
export const tenantErasures = sqliteTable(
  "tenant_erasures",
  {
    tenantId: text("tenant_id").primaryKey(),
    /** Where the tenant's Durable Object lives (null: no jurisdiction), kept to reach it after the tenant row is gone. */
    jurisdiction: text("jurisdiction"),
    status: text("status", { enum: ["queued", "running", "completed", "failed"] }).notNull(),
    /** In order: `records` (D1 rows), `blobs` (R2 objects), `object` (Durable Object storage), `tenant` (its row). */
    phase: text("phase", { enum: ["records", "blobs", "object", "tenant", "done"] }).notNull(),
    /** Where the current phase goes on: the table being emptied in `records`; null otherwise. */
    cursor: text("cursor"),
    d1RowsDeleted: integer("d1_rows_deleted").notNull().default(0),
    r2ObjectsDeleted: integer("r2_objects_deleted").notNull().default(0),
    /** Pages of work done: each page advances it by one, so two deliveries racing on one page count it once. */
    pages: integer("pages").notNull().default(0),
    /** Deliveries of the erasure's messages that failed (and were retried). */
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    requestedAt: text("requested_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    completedAt: text("completed_at"),
  },
  // The cron finds unfinished erasures that stopped moving (status, then age).
  (t) => [index("tenant_erasures_status_idx").on(t.status, t.updatedAt)],
);

export type TenantErasureRow = typeof tenantErasures.$inferSelect;

/**
 * Blobs whose last artifact rows retention deleted, and when. A batch writer that found such a blob in the
 * index just before may still record rows pointing into it, so the collector keeps a released blob for its
 * grace period after the release, however old the blob itself is.
 */
export const releasedBlobs = sqliteTable(
  "released_blobs",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    sha256: text("sha256").notNull(),
    releasedAt: text("released_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.sha256] })],
);

/**
 * Drift monitors: one row each, in D1 because the cron finds the due ones across all tenants
 * (`next_run_at`). Their runs are history that grows with the tenant: they live in its Durable Object.
 */
export const monitors = sqliteTable(
  "monitors",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    target: text("target", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    sourceKind: text("source_kind", { enum: ["graph", "manifest"] }).notNull(),
    /** The graph whose new versions start a run (source `graph`): the target's, or its job's. */
    graph: text("graph"),
    manifestUrl: text("manifest_url"),
    /** Names of the manifest request headers (their values are sealed in encryptedHeaders). */
    headerNames: text("header_names", { mode: "json" }).$type<string[]>(),
    /** The manifest request headers as JSON, sealed with secret-box under the tenant's key. */
    encryptedHeaders: text("encrypted_headers"),
    schedule: text("schedule"),
    onDrift: text("on_drift", { enum: ["report", "regenerate"] }).notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    /** When the cron enqueues the next scheduled run; null without a schedule or while disabled. */
    nextRunAt: text("next_run_at"),
    createdAt: text("created_at").notNull(),
    createdBy: text("created_by").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("monitors_tenant_name_unique").on(t.tenantId, t.name),
    index("monitors_tenant_idx").on(t.tenantId, t.createdAt, t.id),
    index("monitors_due_idx").on(t.nextRunAt),
    index("monitors_graph_idx").on(t.tenantId, t.graph),
  ],
);

export type MonitorRow = typeof monitors.$inferSelect;

/**
 * A tenant's usage figures per calendar month (UTC), written by the cron's usage rollup. Each figure is
 * set to what the tenant's object computes from its counters, so a rollup run again changes nothing.
 */
export const usageMonthly = sqliteTable(
  "usage_monthly",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    month: text("month").notNull(),
    requests: integer("requests").notNull(),
    sparqlQueries: integer("sparql_queries").notNull(),
    sparqlMs: integer("sparql_ms").notNull(),
    triplesPeak: integer("triples_peak").notNull(),
    triplesAverage: integer("triples_average").notNull(),
    templates: integer("templates").notNull(),
    jobs: integer("jobs").notNull(),
    artifacts: integer("artifacts").notNull(),
    artifactBytes: integer("artifact_bytes").notNull(),
    renderMs: integer("render_ms").notNull(),
    webhookDeliveries: integer("webhook_deliveries").notNull(),
    driftRuns: integer("drift_runs").notNull(),
    /** When a rollup last changed a figure of the row. */
    rolledUpAt: text("rolled_up_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.month, t.tenantId] }), index("usage_monthly_tenant_idx").on(t.tenantId, t.month)],
);

export type UsageMonthlyRow = typeof usageMonthly.$inferSelect;

/** Every change of a tenant's plan with its time, written in the same batch as the change: proration reads it. */
export const planChanges = sqliteTable(
  "plan_changes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    fromPlan: text("from_plan").notNull(),
    toPlan: text("to_plan").notNull(),
    changedAt: text("changed_at").notNull(),
  },
  (t) => [index("plan_changes_tenant_idx").on(t.tenantId, t.changedAt, t.id)],
);

export type PlanChangeRow = typeof planChanges.$inferSelect;
