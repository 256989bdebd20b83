import { DurableObject } from "cloudflare:workers";
import { eventTypePatternSchema, MAX_EVENT_TYPE_PATTERNS } from "../shared/contracts/events";
import type { MonitorRun } from "../shared/contracts/monitors";
import { MONTH, type UsageFigures } from "../shared/contracts/usage";
import { isQuotaCounter, monthPeriod, QUOTA_COUNTERS, type QuotaCounter } from "../shared/plans";
import { applySchemaMigrations, readSchemaVersions } from "../shared/sql/migrations";
import type { SqlDatabase } from "../shared/sql/sql-database";
import type { MonitorRunMessage } from "../workers/monitors/monitor-run-message";
import { countedQueue, type QueueProducer } from "../workers/observability/counted-queue";
import { metricsBatch } from "../workers/observability/metrics-batch";
import { sqlDatabaseFromStorage } from "./durable-object-sql-database";
import {
  ArtifactIndexStore,
  type ArtifactRecord,
  type BatchRecord,
  type ContentLocation,
  type IndexedProgress,
  type LegacyImport,
} from "./tenant/artifact-index-store";
import {
  DRIFT_REPORT_ID,
  type DriftReportListCursor,
  type DriftReportRow,
  type DriftReportSummary,
  DriftReports,
} from "./tenant/drift-reports";
import {
  DEFAULT_EVENT_PAGE,
  EventLog,
  type EventPage,
  type EventPrune,
  type JsonValue,
  MAX_EVENT_DATA_BYTES,
  MAX_EVENT_PAGE,
  type TenantEvent,
} from "./tenant/event-log";
import { EVENT_STREAM_PATH } from "./tenant/event-stream-request";
import { EventStreams } from "./tenant/event-streams";
import { EventTickets, type TicketIssue } from "./tenant/event-tickets";
import { GraphPrefixes } from "./tenant/graph-prefixes";
import { GraphService, type IngestInput } from "./tenant/graph-service";
import { applyJobChange, type JobChange, type JobEvent } from "./tenant/job-changes";
import { type BatchProgressEvent, jobProgressEvent } from "./tenant/job-progress-event";
import { type JobRequest, JobService, type PinnedQueries } from "./tenant/job-service";
import { type JobStartInput, type PlanMessage, startJob } from "./tenant/job-start";
import { MonitorDispatcher } from "./tenant/monitor-dispatch";
import { MonitorRuns, type RunFinishInput, type RunStart, type RunStartInput } from "./tenant/monitor-runs";
import {
  type QuotaBatchReservation,
  QuotaCounters,
  type QuotaRelease,
  type QuotaReservation,
  type QuotaUsage,
  TOTAL_PERIOD,
} from "./tenant/quota-counters";
import {
  MAX_REQUEST_COUNTS,
  type RecordRequestsInput,
  type RequestUsage,
  RequestUsageCounters,
  ROUTE_CLASS,
} from "./tenant/request-usage";
import { optionalCount, optionalIdempotencyKey, requireCount, requireMatch, requireObject } from "./tenant/rpc-input";
import { outcome } from "./tenant/rpc-outcome";
import { isStoredKind, STORED_KINDS, StoredBytes, type StoredBytesRow } from "./tenant/stored-bytes";
import { applyTemplateChange, type TemplateChange, type TemplateEvent } from "./tenant/template-changes";
import { TENANT_SCHEMA } from "./tenant/tenant-schema";
import { UsageMeter } from "./tenant/usage-meter";
import type { AttemptReport, DeliveryListCursor } from "./tenant/webhook-deliveries";
import { WebhookDispatcher } from "./tenant/webhook-dispatcher";
import type { NewWebhook, WebhookChanges, WebhookListCursor } from "./tenant/webhook-endpoints";
import { type DeliverQueue, WebhookService } from "./tenant/webhook-service";

export type {
  ArtifactRecord,
  BatchRecord,
  ContentLocation,
  IndexedProgress,
  JobRows,
  LegacyImport,
} from "./tenant/artifact-index-store";
export { MAX_ARTIFACT_PAGE, MAX_CONTENT_LOOKUPS } from "./tenant/artifact-index-store";
export type { DriftReportRow, DriftReportSummary } from "./tenant/drift-reports";
export type { EventPage, EventPrune, JsonValue, TenantEvent } from "./tenant/event-log";
export type { TicketIssue } from "./tenant/event-tickets";
export type {
  QuotaBatchReservation,
  QuotaRelease,
  QuotaReservation,
  QuotaUsage,
} from "./tenant/quota-counters";
export type { RecordRequestsInput, RequestUsage } from "./tenant/request-usage";
export { MAX_REQUEST_COUNTS, ROUTE_CLASS } from "./tenant/request-usage";
export type { AttemptReport } from "./tenant/webhook-deliveries";
export type { AttemptOutcome, DeliverMessage, DeliveryPlan } from "./tenant/webhook-service";

export interface ReserveQuotaInput {
  counter: QuotaCounter;
  /** Units to add, e.g. triples in an upload or bytes of new artifacts. */
  amount: number;
  /** The plan limit for this counter (see quotaLimit in shared/plans). */
  limit: number;
  /** `YYYY-MM` for monthly counters (generations), omitted or `total` for the others. */
  period?: string;
  /** Applied at most once: a redelivered message with the same key is not counted again. */
  idempotencyKey?: string;
}

export interface ReserveQuotasInput {
  /** At most MAX_QUOTA_BATCH reservations, granted all together or not at all. */
  reservations: ReserveQuotaInput[];
}

export const MAX_QUOTA_BATCH = 16;

export interface ReleaseQuotaInput {
  counter: QuotaCounter;
  amount: number;
  period?: string;
  idempotencyKey?: string;
}

export interface UsageQuery {
  /** Counts not yet written (the caller's batch), added before reading in the same call. */
  record?: RecordRequestsInput;
  /** Only quota counters of this period (`YYYY-MM` or `total`). */
  period?: string;
  /** Only request counters of days >= fromDay (`YYYY-MM-DD`). */
  fromDay?: string;
  /** Only request counters of days <= toDay (`YYYY-MM-DD`). */
  toDay?: string;
  /** Also the usage figures of this month (`YYYY-MM`). */
  month?: string;
}

export interface UsageRollupInput {
  /** The caller's clock, epoch ms: the day sampled. */
  now: number;
  /** Months (`YYYY-MM`) whose figures to answer, at most 2. */
  months: string[];
}

export interface MonthlyUsage {
  month: string;
  figures: UsageFigures;
}

export interface TenantUsage {
  quotas: QuotaUsage[];
  requests: RequestUsage[];
  /** Stored bytes per kind as last measured (none before the first measurement). */
  stored: StoredBytesRow[];
  /** Size of this object's SQLite database now: graphs (quads, terms, versions), event log, counters. */
  databaseBytes: number;
  /** The usage figures of the month asked for. */
  month?: MonthlyUsage;
}

export interface PruneGraphVersionsInput {
  /** Newest versions kept per graph (the plan's keptGraphVersions). */
  keepNewest: number;
  /** Versions retained jobs pin, kept whatever their age (at most MAX_PINNED_GRAPH_VERSIONS). */
  pinned: { graph: string; version: number }[];
  /** Quad rows deleted per call at most (default and cap MAX_GRAPH_PRUNE_ROWS). */
  maxRows?: number;
}

export interface JobExpiryInput {
  jobId: string;
  generator: string;
  /** The expired job's artifact bytes, given back to the `artifactBytes` quota. */
  bytes: number;
  /** Epoch ms: when retention deleted the job. */
  expiredAt: number;
}

export const MAX_PINNED_GRAPH_VERSIONS = 10_000;
export const MAX_GRAPH_PRUNE_ROWS = 20_000;

export interface RecordStoredBytesInput {
  /** Epoch ms of the measurement. */
  measuredAt: number;
  /** Measured kinds (not `events`: the object measures its event log itself). */
  kinds: { kind: string; bytes: number; objects: number }[];
}

export interface AppendEventInput {
  /** Dotted lower-case name, e.g. `job.completed` or `graph.version.created`. */
  type: string;
  /** Any JSON value, at most MAX_EVENT_DATA_BYTES serialized. */
  data: JsonValue;
  /** Epoch ms from the caller's clock. */
  createdAt: number;
  /** Appended at most once: a retry with the same key returns the first event. */
  idempotencyKey?: string;
}

export interface AppendedEvent extends TenantEvent {
  /** True when the idempotency key had already been appended (nothing new was written). */
  replayed: boolean;
}

export interface JobChangeOutcome {
  changed: boolean;
  /** The event appended for the change, null when nothing changed. */
  event: AppendedEvent | null;
}

export interface ReadEventsInput {
  /** Cursor: return events with id > after (default 0, the start of the log). */
  after?: number;
  /** Page size, default DEFAULT_EVENT_PAGE; larger values are capped at MAX_EVENT_PAGE. */
  limit?: number;
  /** Only events whose type matches one of these patterns (`job.*`, `graph.deleted`, `*`). */
  types?: string[];
}

export interface PruneEventsInput {
  /** Events created before this (epoch ms) are deleted. */
  cutoff: number;
  /** At most this many rows per call (default and cap MAX_EVENT_PRUNE). */
  maxRows?: number;
}

export const MAX_EVENT_PRUNE = 5000;

export interface TemplateChangeOutcome {
  changed: boolean;
  /** The event appended for the change, null when nothing changed. */
  event: AppendedEvent | null;
}

const EVENT_TYPE = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*){0,7}$/;
const DAY = /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/;

const PERIOD = /^(total|[0-9]{4}-(0[1-9]|1[0-2]))$/;

/**
 * One per tenant, named by tenant id (see tenantStub). Owns the tenant's SQLite: rate limiter,
 * quota counters, request usage, event log and versioned graphs. Every RPC method except the
 * streamed graph upload runs synchronously against SQLite, so each call is atomic with respect
 * to every other call on the same tenant.
 */
/** The outcome of arming a point-in-time restore of a tenant object's storage. */
export type StorageRestoreArm =
  | { armed: true; bookmark: string; previous: string }
  | { armed: false; reason: "unavailable" | "invalid-point"; detail: string };

export class TenantObject extends DurableObject<Env> {
  protected readonly db: SqlDatabase;
  private readonly quotas: QuotaCounters;
  private readonly requestUsage: RequestUsageCounters;
  private readonly storedBytes: StoredBytes;
  private readonly events: EventLog;
  private readonly graphs: GraphService;
  private readonly jobs: JobService;
  private readonly eventTickets: EventTickets;
  private readonly eventStreams: EventStreams;
  private readonly webhooks: WebhookService;
  private readonly webhookDispatcher: WebhookDispatcher;
  private readonly driftReports: DriftReports;
  private readonly monitorRuns: MonitorRuns;
  private readonly monitorDispatcher: MonitorDispatcher;
  private readonly artifacts: ArtifactIndexStore;
  private readonly usage: UsageMeter;
  /** The `generate` queue, where a started job's plan message goes. */
  private readonly generateQueue: () => QueueProducer<PlanMessage>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = sqlDatabaseFromStorage(ctx.storage);
    this.quotas = new QuotaCounters(this.db);
    this.requestUsage = new RequestUsageCounters(this.db);
    this.storedBytes = new StoredBytes(this.db);
    this.events = new EventLog(this.db, () => this.scheduleEventFanOut());
    this.graphs = new GraphService(this.db, { prefixes: new GraphPrefixes(this.db), events: this.events });
    this.jobs = new JobService(this.graphs);
    this.eventTickets = new EventTickets(this.db);
    this.eventStreams = new EventStreams(ctx, this.events, this.eventTickets, () => this.scheduleEventFanOut());
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    const flushMetrics = () => metricsBatch.scheduleFlush(env, ctx);
    const deliverQueue = () => countedQueue(env.DELIVER_QUEUE as unknown as DeliverQueue, "deliver", flushMetrics);
    this.generateQueue = () =>
      countedQueue(this.env.GENERATE_QUEUE as unknown as QueueProducer<PlanMessage>, "generate", flushMetrics);
    this.webhooks = new WebhookService(
      this.db,
      this.events,
      (type, data, createdAt) => this.events.append(type, eventDataJson(data), createdAt).event,
      deliverQueue,
    );
    this.webhookDispatcher = new WebhookDispatcher(this.db, this.events, this.webhooks, deliverQueue);
    this.driftReports = new DriftReports(this.db);
    this.monitorRuns = new MonitorRuns(this.db, this.events, this.quotas);
    this.monitorDispatcher = new MonitorDispatcher(this.db, this.events, env.DB, () =>
      countedQueue(env.DRIFT_QUEUE as unknown as QueueProducer<MonitorRunMessage>, "drift", flushMetrics),
    );
    this.artifacts = new ArtifactIndexStore(this.db);
    this.usage = new UsageMeter(this.db);
    ctx.blockConcurrencyWhile(async () => {
      applySchemaMigrations(this.db, TENANT_SCHEMA);
      this.graphs.discardInterruptedWrites();
    });
  }

  /**
   * New events reach their consumers (open event streams, webhook deliveries) from the alarm, after
   * the transaction that appended them committed: an appender never waits for a consumer, and a
   * consumer that fails is retried by the alarm instead of failing the change.
   */
  private scheduleEventFanOut(): void {
    void this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    await this.fanOutEvents();
  }

  /** Hands the events appended since each consumer's own cursor to that consumer. */
  private async fanOutEvents(): Promise<void> {
    this.eventStreams.deliverNewEvents();
    await this.dispatchWebhooks();
    await this.dispatchMonitorRuns();
  }

  /** Opens a live event stream (SSE or WebSocket) the Worker authenticated; see EventStreams. */
  override async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname === EVENT_STREAM_PATH) return this.eventStreams.open(request);
    return new Response(null, { status: 404 });
  }

  override async webSocketMessage(socket: WebSocket): Promise<void> {
    this.eventStreams.socketMessage(socket);
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    this.eventStreams.socketClosed(socket, code, reason);
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    this.eventStreams.socketClosed(socket, 1011, "socket error");
  }

  /** A single-use ticket to open this tenant's event stream within a minute (for clients without headers). */
  issueEventTicket(tenantId: string, now: number): TicketIssue {
    if (typeof tenantId !== "string") throw new TypeError("tenantId must be a string");
    return this.eventTickets.issue(tenantId, requireCount("now", now));
  }

  /** Open event streams and sockets. */
  openEventStreams(): number {
    return this.eventStreams.openCount();
  }

  /** Queues the webhook deliveries of new events; runs again while more wait or after a failed send. */
  private async dispatchWebhooks(): Promise<void> {
    const { againInMs } = await this.webhookDispatcher.dispatch(Date.now());
    await this.runFanOutAgainIn(againInMs);
  }

  /** Queues the runs of graph monitors for new graph versions; runs again like dispatchWebhooks. */
  private async dispatchMonitorRuns(): Promise<void> {
    const { againInMs } = await this.monitorDispatcher.dispatch();
    await this.runFanOutAgainIn(againInMs);
  }

  private async runFanOutAgainIn(againInMs: number | null): Promise<void> {
    if (againInMs === null) return;
    // Never postpone an alarm another consumer (or a new event) asked for sooner.
    const wanted = Date.now() + againInMs;
    const scheduled = await this.ctx.storage.getAlarm();
    if (scheduled === null || scheduled > wanted) await this.ctx.storage.setAlarm(wanted);
  }

  ping(): string {
    return "pong";
  }

  /**
   * Point-in-time recovery (operator): arms a restore of this object's SQLite storage to `target` (a time
   * within the last 30 days, or a bookmark) for its next start, and gives the bookmark of now, which undoes
   * it. The restore happens when the object restarts (storageRestart). The local runtime has no
   * point-in-time recovery: it answers `unavailable`.
   */
  async storageRestoreArm(target: { at: number } | { bookmark: string }): Promise<StorageRestoreArm> {
    let previous: string;
    try {
      // The present is always a valid restore point: failing on it means the storage has no recovery at all.
      await this.ctx.storage.getBookmarkForTime(Date.now());
      previous = await this.ctx.storage.getCurrentBookmark();
    } catch (error) {
      return { armed: false, reason: "unavailable", detail: (error as Error).message };
    }
    try {
      const bookmark = "bookmark" in target ? target.bookmark : await this.ctx.storage.getBookmarkForTime(target.at);
      await this.ctx.storage.onNextSessionRestoreBookmark(bookmark);
      return { armed: true, bookmark, previous };
    } catch (error) {
      return { armed: false, reason: "invalid-point", detail: (error as Error).message };
    }
  }

  /** Restarts the object so an armed restore takes effect; the call itself fails as the object goes away. */
  storageRestart(): void {
    this.eventStreams.closeAll();
    this.ctx.abort("point-in-time restore");
  }

  /** Tenant deletion: drops every row of this tenant's storage, then re-creates the empty schema. */
  async deleteAllData(): Promise<void> {
    this.eventStreams.closeAll();
    await this.ctx.storage.deleteAll();
    applySchemaMigrations(this.db, TENANT_SCHEMA);
  }

  // Graphs: each returns its failure as data (RpcOutcome), see graph-service.ts.

  graphList() {
    return outcome(() => this.graphs.list());
  }

  graphLatest(name: string) {
    return outcome(() => this.graphs.latest(name));
  }

  graphVersions(name: string) {
    return outcome(() => this.graphs.versions(name));
  }

  graphVersion(name: string, version: number) {
    return outcome(() => this.graphs.version(name, version));
  }

  /**
   * Replaces a graph's content with the RDF document streamed in `body` (see GraphService.ingest). A new
   * version appends `graph.version.created` in the transaction that records it, as patches and updates do.
   */
  graphIngest(input: IngestInput) {
    return outcome(() => this.graphs.ingest(input));
  }

  graphPatch(input: Parameters<GraphService["patch"]>[0]) {
    return outcome(() => this.graphs.patch(input));
  }

  graphUpdate(input: Parameters<GraphService["update"]>[0]) {
    return outcome(() => this.graphs.update(input));
  }

  /** Deletes the graph and appends `graph.deleted` in the same transaction. */
  graphDelete(name: string) {
    return outcome(() => this.graphs.delete(name, Date.now()));
  }

  graphContent(name: string, version: number | undefined, mediaType: string, expectedHash?: string) {
    return outcome(() => this.graphs.content(name, version, mediaType, expectedHash));
  }

  graphDiff(name: string, from: number, to: number, mediaType: "application/json" | "application/n-triples") {
    return outcome(() => this.graphs.diff(name, from, to, mediaType));
  }

  graphQuery(input: Parameters<GraphService["query"]>[0]) {
    return outcome(() => this.graphs.query(input));
  }

  graphTriples(name: string, version?: number) {
    return outcome(() => this.graphs.triples(name, version));
  }

  // Jobs: planning and rendering run in Workers; the object answers their queries in bounded batches.

  /** A batch of generation queries over a pinned version (see JobService.queries for the bound per call). */
  jobQueries(input: PinnedQueries) {
    return outcome(() => this.jobs.queries(input));
  }

  /** The request path of `POST /v1/jobs` in one call: pin, reserve a generation, create the job, append `job.started`. */
  jobStart(input: JobStartInput) {
    return outcome(() =>
      startJob(input, {
        db: this.env.DB,
        graphs: this.graphs,
        quotas: this.quotas,
        appendStarted: (job) =>
          this.appendEvent({
            type: "job.started",
            data: { jobId: job.id, lockHash: job.lockHash },
            createdAt: Date.parse(job.createdAt),
            idempotencyKey: `${job.id}:started`,
          }),
        sendPlan: async (message) => {
          await this.generateQueue().send(message);
        },
        failUnqueued: async (job, reason) => {
          const failedAt = Date.now();
          await this.recordJobChange(
            input.tenantId,
            {
              kind: "transition",
              jobId: job.id,
              from: ["queued"],
              changes: { status: "failed", error: reason, updatedAt: new Date(failedAt).toISOString() },
            },
            {
              type: "job.failed",
              data: { jobId: job.id, reason },
              createdAt: failedAt,
              idempotencyKey: `${job.id}:failed`,
            },
          );
        },
      }),
    );
  }

  jobPreview(request: JobRequest, templatePath: string, maxUnits: number) {
    return outcome(() => this.jobs.preview(request, templatePath, maxUnits));
  }

  // The artifact index (see artifact-index-store.ts); workers/repository/artifact-index.ts is its one caller.

  /**
   * A written batch's rows and skipped count, in one transaction; the job's counts from the stored rows.
   * With `progress`, the batch's `job.progress` event is appended with those counts (once per batch).
   */
  artifactRecord(
    jobId: string,
    rows: ArtifactRecord[],
    batch: BatchRecord | null,
    progress: BatchProgressEvent | null = null,
  ): IndexedProgress {
    if (!Array.isArray(rows)) throw new TypeError("rows must be an array");
    const job = requireString("jobId", jobId);
    const indexed = this.artifacts.record(job, rows, batch, (inserted) => {
      // Summed per month first: two counter writes per batch, not two per artifact.
      const months = new Map<string, { artifacts: number; bytes: number }>();
      for (const row of inserted) {
        const month = row.createdAt.slice(0, 7);
        const sum = months.get(month) ?? { artifacts: 0, bytes: 0 };
        months.set(month, { artifacts: sum.artifacts + 1, bytes: sum.bytes + row.size });
      }
      for (const [month, sum] of months) {
        this.usage.add("artifacts", month, sum.artifacts);
        this.usage.add("artifactBytes", month, sum.bytes);
      }
    });
    if (batch && progress) {
      const event = requireObject("progress", progress);
      this.appendEvent(
        jobProgressEvent(job, indexed, {
          total: requireCount("total", event.total),
          createdAt: requireCount("createdAt", event.createdAt),
          idempotencyKey: requireString("idempotencyKey", event.idempotencyKey),
        }),
      );
    }
    return indexed;
  }

  /**
   * What a batch needs before its pack is written, in one call: its artifact bytes reserved, and, once
   * granted, where the tenant already stores each of its contents (see artifactContentLocations).
   */
  artifactPrepareBatch(input: { reservation: ReserveQuotaInput; sha256s: string[] }): {
    reservation: QuotaReservation;
    locations: Record<string, ContentLocation>;
  } {
    const { reservation, sha256s } = requireObject("artifactPrepareBatch input", input);
    if (!Array.isArray(sha256s)) throw new TypeError("sha256s must be an array");
    const reserved = this.reserveQuota(reservation as ReserveQuotaInput);
    return { reservation: reserved, locations: reserved.granted ? this.artifacts.contentLocations(sha256s) : {} };
  }

  /**
   * A dead-lettered batch: gives back the artifact bytes it reserved unless its rows were recorded (their
   * bytes are the job's and are given back when the job expires). Once per batch; the bytes given back.
   */
  artifactReleaseUnwrittenBatch(jobId: string, batchKey: string): number {
    const job = requireString("jobId", jobId);
    const key = requireString("batchKey", batchKey);
    return this.db.transaction(() =>
      this.artifacts.hasBatch(job, key) ? 0 : this.quotas.releaseReservation(key, `${key}:dead-lettered`).released,
    );
  }

  artifactContentLocations(sha256s: string[]) {
    if (!Array.isArray(sha256s)) throw new TypeError("sha256s must be an array");
    return this.artifacts.contentLocations(sha256s);
  }

  artifactOutputPaths(jobId: string) {
    return this.artifacts.outputPaths(requireString("jobId", jobId));
  }

  artifactList(jobId: string, limit: number, afterPath: string | null, withAttestation: boolean) {
    if (afterPath !== null && typeof afterPath !== "string") throw new TypeError("afterPath must be a string or null");
    return this.artifacts.list(
      requireString("jobId", jobId),
      requireCount("limit", limit),
      afterPath,
      withAttestation === true,
    );
  }

  artifactGet(id: string) {
    return this.artifacts.get(requireString("id", id));
  }

  /** The blobs the index references, at most `limit` (the blob collector's mark phase). */
  artifactReferencedBlobs(limit: number) {
    return this.artifacts.referencedBlobs(Math.min(requireCount("limit", limit), 1_000_000));
  }

  artifactJobBlobs(jobId: string): string[] {
    return this.artifacts.jobBlobs(requireString("jobId", jobId));
  }

  /** Retention: a job's rows and batch records go (after its D1 row did). */
  artifactForgetJob(jobId: string): number {
    return this.artifacts.forgetJob(requireString("jobId", jobId));
  }

  artifactMarkLegacy(jobId: string): void {
    this.artifacts.markLegacy(requireString("jobId", jobId));
  }

  artifactImportLegacy(imports: LegacyImport[]): void {
    if (!Array.isArray(imports)) throw new TypeError("imports must be an array");
    this.artifacts.importLegacy(imports);
  }

  // Webhooks (see webhook-service.ts): each change appends its `webhook.*` event in the same call.

  webhookCreate(input: NewWebhook) {
    return outcome(() => this.webhooks.create(input));
  }

  webhookList(limit: number, after?: WebhookListCursor) {
    return outcome(() => this.webhooks.list(limit, after));
  }

  webhookGet(id: string) {
    return outcome(() => this.webhooks.get(id));
  }

  webhookUpdate(tenantId: string, id: string, changes: WebhookChanges, now: number) {
    return outcome(() => this.webhooks.update(tenantId, id, changes, now));
  }

  webhookDelete(id: string, now: number) {
    return outcome(() => this.webhooks.delete(id, now));
  }

  /** `now` is the caller's clock: the replaced secret keeps signing until now + 24 h. */
  webhookRotateSecret(id: string, secret: NewWebhook["secret"], now: number) {
    return outcome(() => this.webhooks.rotateSecret(id, secret, now));
  }

  /** `traceparent`: the request's trace, carried by the delivery to its outbound request. */
  webhookTest(tenantId: string, id: string, now: number, traceparent?: string) {
    return outcome(() => this.webhooks.enqueueTest(tenantId, id, now, traceparent));
  }

  webhookDeliveries(webhookId: string, limit: number, before?: DeliveryListCursor) {
    return outcome(() => this.webhooks.deliveriesOf(webhookId, limit, before));
  }

  webhookDelivery(webhookId: string, deliveryId: string) {
    return outcome(() => this.webhooks.delivery(webhookId, deliveryId));
  }

  webhookRedeliver(tenantId: string, webhookId: string, deliveryId: string, now: number, traceparent?: string) {
    return outcome(() => this.webhooks.redeliver(tenantId, webhookId, deliveryId, now, traceparent));
  }

  /** For the deliver consumer: what to send now (null: nothing to send). */
  webhookDeliveryPlan(tenantId: string, deliveryId: string, now: number) {
    return this.webhooks.plan(tenantId, deliveryId, now);
  }

  /** Every recorded attempt is one webhook delivery in the usage of its month. */
  webhookRecordAttempt(deliveryId: string, report: AttemptReport) {
    return this.db.transaction(() => {
      const outcome = this.webhooks.recordAttempt(deliveryId, report);
      if (outcome !== null) {
        this.usage.add("webhookDeliveries", monthPeriod(requireCount("attemptedAt", report.attemptedAt)), 1);
      }
      return outcome;
    });
  }

  /** For the dead-letter consumer: the delivery used up its retries. */
  webhookRecordGaveUp(deliveryId: string, now: number): boolean {
    return this.webhooks.recordGaveUp(deliveryId, now);
  }

  /** Stored schema version of every component, e.g. `{ "tenant-core": 1 }`. */
  // Drift reports: the index rows; the reports themselves are in R2 (see workers/drift/).

  /** A new report is one drift run (a check or a monitor run) in the usage of its month; a repeated create is not. */
  driftReportCreate(input: Parameters<DriftReports["create"]>[0]): DriftReportRow {
    requireMatch("report id", input.id, DRIFT_REPORT_ID);
    const now = requireCount("now", input.now);
    return this.db.transaction(() => {
      const existed = this.driftReports.get(input.id) !== null;
      const row = this.driftReports.create(input);
      if (!existed) this.usage.add("driftRuns", monthPeriod(now), 1);
      return row;
    });
  }

  driftReportComplete(id: string, status: "clean" | "drift", summary: DriftReportSummary, now: number): boolean {
    return this.driftReports.complete(id, status, summary, requireCount("now", now));
  }

  driftReportFail(id: string, error: string, now: number): boolean {
    return this.driftReports.fail(id, String(error), requireCount("now", now));
  }

  driftReportNoteError(id: string, error: string, now: number): void {
    this.driftReports.noteAttemptError(id, String(error), requireCount("now", now));
  }

  driftReportGet(id: string): DriftReportRow | null {
    return this.driftReports.get(String(id));
  }

  driftReportList(limit: number, jobId?: string, before?: DriftReportListCursor): DriftReportRow[] {
    return this.driftReports.list(Math.min(requireCount("limit", limit), 200), jobId, before);
  }

  getSchemaVersions(): Record<string, number> {
    return readSchemaVersions(this.db);
  }

  /** Atomically adds `amount` to the counter if that keeps it within `limit`; otherwise changes nothing. */
  reserveQuota(input: ReserveQuotaInput): QuotaReservation {
    const args = requireObject("reserveQuota input", input);
    return this.quotas.reserve(
      quotaCounter(args.counter),
      quotaPeriod(args.period),
      requireCount("amount", args.amount),
      requireCount("limit", args.limit),
      optionalIdempotencyKey(args.idempotencyKey),
    );
  }

  /**
   * All-or-nothing reserveQuota over several counters, e.g. one generation this month plus the
   * artifact bytes it will write: either every reservation counts or none does.
   */
  reserveQuotas(input: ReserveQuotasInput): QuotaBatchReservation {
    const { reservations } = requireObject("reserveQuotas input", input);
    if (!Array.isArray(reservations) || reservations.length === 0 || reservations.length > MAX_QUOTA_BATCH) {
      throw new RangeError(`reservations must be an array of 1 to ${MAX_QUOTA_BATCH} items`);
    }
    return this.quotas.reserveAll(
      reservations.map((item: unknown) => {
        const args = requireObject("reservation", item);
        return {
          counter: quotaCounter(args.counter),
          period: quotaPeriod(args.period),
          amount: requireCount("amount", args.amount),
          limit: requireCount("limit", args.limit),
          key: optionalIdempotencyKey(args.idempotencyKey),
        };
      }),
    );
  }

  /** Takes `amount` off the counter (not below zero), e.g. to refund a reservation whose work failed. */
  releaseQuota(input: ReleaseQuotaInput): QuotaRelease {
    const args = requireObject("releaseQuota input", input);
    return this.quotas.release(
      quotaCounter(args.counter),
      quotaPeriod(args.period),
      requireCount("amount", args.amount),
      optionalIdempotencyKey(args.idempotencyKey),
    );
  }

  /** Adds a batch of request counts (metering deferred and batched by a Worker isolate). */
  recordRequests(input: RecordRequestsInput): void {
    const args = requireObject("recordRequests input", input);
    const { counts } = args;
    if (!Array.isArray(counts) || counts.length > MAX_REQUEST_COUNTS) {
      throw new RangeError(`counts must be an array of at most ${MAX_REQUEST_COUNTS} items`);
    }
    const checked = counts.map(requestCount);
    this.db.transaction(() => {
      this.requestUsage.recordAll(checked, requireCount("now", args.now));
      for (const count of checked) {
        const month = count.day.slice(0, 7);
        this.usage.add("sparqlQueries", month, count.sparqlQueries ?? 0);
        this.usage.add("sparqlMs", month, count.sparqlMs ?? 0);
        this.usage.add("renderMs", month, count.renderMs ?? 0);
      }
    });
  }

  /**
   * For the cron's rollup: samples today's stored amounts, then answers each month's figures computed
   * from the counters (the same figures however often it is asked).
   */
  usageRollup(input: UsageRollupInput): MonthlyUsage[] {
    const args = requireObject("usageRollup input", input);
    const now = requireCount("now", args.now);
    if (!Array.isArray(args.months) || args.months.length > 2)
      throw new RangeError("months must list at most 2 months");
    const months = args.months.map((month: unknown) => requireMatch("month", month, MONTH));
    return this.db.transaction(() => {
      this.usage.sample(now);
      return months.map((month: string) => ({ month, figures: this.usage.figures(month, now) }));
    });
  }

  /** Quota counters (by counter, then period) and request counters (by day, then route class). */
  getUsage(query: UsageQuery = {}): TenantUsage {
    const args = requireObject("getUsage query", query);
    if (args.record !== undefined) this.recordRequests(args.record as RecordRequestsInput);
    const period = args.period === undefined ? undefined : quotaPeriod(args.period);
    const fromDay = args.fromDay === undefined ? undefined : requireMatch("fromDay", args.fromDay, DAY);
    const toDay = args.toDay === undefined ? undefined : requireMatch("toDay", args.toDay, DAY);
    const month = args.month === undefined ? undefined : requireMatch("month", args.month, MONTH);
    return {
      ...(month === undefined ? {} : { month: { month, figures: this.usage.figures(month, Date.now()) } }),
      quotas: this.quotas.list(period),
      requests: this.requestUsage.list(fromDay, toDay),
      stored: this.storedBytes.list(),
      databaseBytes: this.ctx.storage.sql.databaseSize,
    };
  }

  /**
   * After retention deleted a job (in D1): gives its bytes back to the `artifactBytes` quota and appends
   * `job.expired`, in one transaction, each once per job however often the cron retries.
   */
  recordJobExpiry(input: JobExpiryInput): AppendedEvent {
    const args = requireObject("recordJobExpiry input", input);
    if (typeof args.jobId !== "string" || args.jobId.length < 1 || args.jobId.length > 64) {
      throw new RangeError("jobId must be a string of 1 to 64 characters");
    }
    if (typeof args.generator !== "string" || args.generator.length > 200) {
      throw new RangeError("generator must be a string of at most 200 characters");
    }
    const { jobId, generator } = args;
    const bytes = requireCount("bytes", args.bytes);
    const expiredAt = requireCount("expiredAt", args.expiredAt);
    return this.db.transaction(() => {
      this.quotas.release("artifactBytes", TOTAL_PERIOD, bytes, `${jobId}:bytes:expired`);
      const { event, replayed } = this.events.append(
        "job.expired",
        eventDataJson({ jobId, generator }),
        expiredAt,
        `${jobId}:expired`,
      );
      return { ...event, replayed };
    });
  }

  /** Version retention (see GraphService.pruneVersions), a bounded number of rows per call. */
  async pruneGraphVersions(
    input: PruneGraphVersionsInput,
  ): Promise<{ versions: number; quads: number; more: boolean }> {
    const args = requireObject("pruneGraphVersions input", input);
    const keepNewest = requireCount("keepNewest", args.keepNewest);
    if (keepNewest < 1) throw new RangeError("keepNewest must be at least 1");
    const maxRows = optionalCount("maxRows", args.maxRows, MAX_GRAPH_PRUNE_ROWS);
    if (maxRows < 1) throw new RangeError("maxRows must be at least 1");
    if (!Array.isArray(args.pinned) || args.pinned.length > MAX_PINNED_GRAPH_VERSIONS) {
      throw new RangeError(`pinned must be an array of at most ${MAX_PINNED_GRAPH_VERSIONS} versions`);
    }
    const pinned = new Map<string, number[]>();
    for (const value of args.pinned) {
      const entry = requireObject("pinned version", value);
      if (typeof entry.graph !== "string") throw new RangeError("pinned graph must be a string");
      pinned.set(entry.graph, [...(pinned.get(entry.graph) ?? []), requireCount("version", entry.version)]);
    }
    return this.graphs.pruneVersions({ keepNewest, pinned, maxRows: Math.min(maxRows, MAX_GRAPH_PRUNE_ROWS) });
  }

  /** Records what the cron measured the tenant stores, by kind, with the event log measured alongside. */
  recordStoredBytes(input: RecordStoredBytesInput): void {
    const args = requireObject("recordStoredBytes input", input);
    if (!Array.isArray(args.kinds) || args.kinds.length > STORED_KINDS.length) {
      throw new RangeError(`kinds must be an array of at most ${STORED_KINDS.length} measurements`);
    }
    const kinds = args.kinds.map((value) => {
      const entry = requireObject("stored kind", value);
      if (!isStoredKind(entry.kind) || entry.kind === "events") {
        throw new RangeError(`kind must be one of ${STORED_KINDS.filter((kind) => kind !== "events").join(", ")}`);
      }
      return {
        kind: entry.kind,
        bytes: requireCount("bytes", entry.bytes),
        objects: requireCount("objects", entry.objects),
      };
    });
    this.storedBytes.record(kinds, requireCount("measuredAt", args.measuredAt));
  }

  /** Appends to the tenant's ordered event log. */
  appendEvent(input: AppendEventInput): AppendedEvent {
    const args = requireObject("appendEvent input", input);
    const type = requireMatch("type", args.type, EVENT_TYPE);
    if (type.length > 100) throw new RangeError("type must be at most 100 characters");
    const { event, replayed } = this.events.append(
      type,
      eventDataJson(args.data),
      requireCount("createdAt", args.createdAt),
      optionalIdempotencyKey(args.idempotencyKey),
    );
    return { ...event, replayed };
  }

  /**
   * Applies a job's state change and appends the event recording it in the same call: the event
   * exists exactly when the change was applied (see applyJobChange).
   */
  async recordJobChange(tenantId: string, change: JobChange, event: JobEvent): Promise<JobChangeOutcome> {
    if (!(await applyJobChange(this.env.DB, tenantId, change))) return { changed: false, event: null };
    return { changed: true, event: this.appendEvent(event) };
  }

  /**
   * Applies a template's change to D1 and appends the event recording it in the same call, only when
   * the change was applied (a delete of a template already gone records nothing).
   */
  async recordTemplateChange(
    tenantId: string,
    change: TemplateChange,
    event: TemplateEvent,
  ): Promise<TemplateChangeOutcome> {
    if (!(await applyTemplateChange(this.env.DB, tenantId, change))) return { changed: false, event: null };
    return { changed: true, event: this.appendEvent(event) };
  }

  // Monitors: their definitions are in D1 (the cron finds due ones there); their runs are here.

  /** Graph-version events from now on start the runs of this tenant's graph monitors (idempotent). */
  monitorWatchGraphs(tenantId: string): void {
    if (typeof tenantId !== "string") throw new TypeError("tenantId must be a string");
    this.monitorDispatcher.watch(tenantId);
  }

  /** Marks a run running (creating it and counting it against the monthly run quota on its first attempt). */
  monitorRunStart(input: RunStartInput): RunStart {
    requireObject("monitorRunStart input", input);
    return this.monitorRuns.start(input);
  }

  /** Records how a run ended, once, with its events (`drift.detected`, `drift.resolved`, …). */
  monitorRunFinish(input: RunFinishInput): MonitorRun {
    requireObject("monitorRunFinish input", input);
    return this.monitorRuns.finish(input);
  }

  /** One page of a monitor's runs, newest first (limit + 1 rows: the extra one says another page follows). */
  monitorRunList(monitorId: string, limit: number, before?: { scheduledFor: number; id: string }): MonitorRun[] {
    return this.monitorRuns.list(monitorId, Math.min(requireCount("limit", limit), 200), before);
  }

  monitorTrend(monitorId: string, since: number) {
    return this.monitorRuns.trend(monitorId, requireCount("since", since));
  }

  /** Forgets a deleted monitor's runs, at most `maxRows` per call; how many went. */
  monitorForget(monitorId: string, maxRows: number): number {
    return this.monitorRuns.forget(monitorId, Math.min(requireCount("maxRows", maxRows), 5_000));
  }

  /** One page of events after the cursor, oldest first, optionally only of some types (a bounded scan). */
  readEvents(input: ReadEventsInput = {}): EventPage {
    const args = requireObject("readEvents input", input);
    const after = optionalCount("after", args.after, 0);
    const limit = optionalCount("limit", args.limit, DEFAULT_EVENT_PAGE);
    if (limit < 1) throw new RangeError("limit must be at least 1");
    return this.events.read(after, Math.min(limit, MAX_EVENT_PAGE), typePatterns(args.types));
  }

  /** Retention: deletes events created before `cutoff`, oldest first, at most `maxRows` per call. */
  pruneEvents(input: PruneEventsInput): EventPrune {
    const args = requireObject("pruneEvents input", input);
    const maxRows = optionalCount("maxRows", args.maxRows, MAX_EVENT_PRUNE);
    if (maxRows < 1) throw new RangeError("maxRows must be at least 1");
    return this.events.prune(requireCount("cutoff", args.cutoff), Math.min(maxRows, MAX_EVENT_PRUNE));
  }
}

function requireString(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 65_536) {
    throw new TypeError(`${name} must be a string of 1 to 65536 characters`);
  }
  return value;
}

function quotaCounter(value: unknown): QuotaCounter {
  if (!isQuotaCounter(value)) throw new RangeError(`counter must be one of ${QUOTA_COUNTERS.join(", ")}`);
  return value;
}

function requestCount(value: unknown): RequestUsage {
  const args = requireObject("request count", value);
  const count = {
    day: requireMatch("day", args.day, DAY),
    routeClass: requireMatch("routeClass", args.routeClass, ROUTE_CLASS),
    requests: requireCount("requests", args.requests),
    clientErrors: requireCount("clientErrors", args.clientErrors),
    serverErrors: requireCount("serverErrors", args.serverErrors),
    ...(args.sparqlQueries === undefined ? {} : { sparqlQueries: requireCount("sparqlQueries", args.sparqlQueries) }),
    ...(args.sparqlMs === undefined ? {} : { sparqlMs: requireCount("sparqlMs", args.sparqlMs) }),
    ...(args.renderMs === undefined ? {} : { renderMs: requireCount("renderMs", args.renderMs) }),
  };
  if (count.clientErrors + count.serverErrors > count.requests) {
    throw new RangeError("clientErrors and serverErrors cannot exceed requests");
  }
  return count;
}

function quotaPeriod(value: unknown): string {
  return value === undefined ? TOTAL_PERIOD : requireMatch("period", value, PERIOD);
}

function typePatterns(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_EVENT_TYPE_PATTERNS) {
    throw new RangeError(`types must be an array of 1 to ${MAX_EVENT_TYPE_PATTERNS} patterns`);
  }
  return value.map((pattern) => {
    const parsed = eventTypePatternSchema.safeParse(pattern);
    if (!parsed.success) throw new RangeError(`types: ${JSON.stringify(pattern)} is not an event type pattern`);
    return parsed.data;
  });
}

function eventDataJson(data: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    throw new TypeError(`data must be JSON-serializable: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (json === undefined) throw new TypeError("data must be a JSON value");
  if (new TextEncoder().encode(json).byteLength > MAX_EVENT_DATA_BYTES) {
    throw new RangeError(`data must serialize to at most ${MAX_EVENT_DATA_BYTES} bytes`);
  }
  return json;
}
