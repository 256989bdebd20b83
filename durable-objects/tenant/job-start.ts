import type { RenderOptions } from "../../shared/contracts/lock";
import { type Lock, lockHash } from "../../shared/generate/lock";
import { QuotaExceededError } from "../../shared/quota-errors";
import type { JobRow } from "../../workers/db/schema";
import { generatorOf, lockOf, pinnedVersionOf, rebasedLock } from "../../workers/jobs/job-inputs";
import type { GraphService } from "./graph-service";
import { applyJobChange } from "./job-changes";
import type { QuotaCounters } from "./quota-counters";

/**
 * What a job pins: a lock sent back (already verified), a stored generator over a graph version (the
 * latest unless named), or a completed job's lock rebased onto another version.
 */
export type JobPin =
  | { kind: "lock"; lock: Lock }
  | {
      /** A stored generator by name: the object reads its templates and options from the catalog (D1). */
      kind: "catalog";
      graph: string;
      version?: number;
      generator: string;
      options?: RenderOptions;
    }
  | {
      /** An incremental job: a completed job's lock with the graph pinned to another version (the latest unless named). */
      kind: "rebase";
      baseJobId: string;
      lock: Lock;
      version?: number;
    };

export interface JobStartInput {
  tenantId: string;
  jobId: string;
  /** The caller's clock, ISO 8601: the job's createdAt. */
  createdAt: string;
  params: Record<string, unknown>;
  pin: JobPin;
  /** The plan's generations per month and the month (`YYYY-MM`) this job counts in. */
  generations: { limit: number; period: string };
  /** W3C trace context of the request, carried by the plan message. */
  traceparent?: string;
}

/** The message that plans a job on the `generate` queue (workers/jobs/generate-consumer.ts). */
export interface PlanMessage {
  kind: "plan";
  tenantId: string;
  jobId: string;
  traceparent?: string;
}

export type StartedJob = Omit<JobRow, "tenantId">;

/** What starting a job needs of the tenant's object. */
export interface JobStartStore {
  db: D1Database;
  graphs: GraphService;
  quotas: QuotaCounters;
  appendStarted(job: StartedJob): void;
  sendPlan(message: PlanMessage): Promise<void>;
  /** Fails a job that was created but could not be queued (with its `job.failed` event). */
  failUnqueued(job: StartedJob, reason: string): Promise<void>;
}

/**
 * The part of `POST /v1/jobs` that needs the tenant's state, in one call: pins the graph version and
 * computes the lock, reserves one generation of the month, creates the job (queued, not planned yet:
 * total 0), appends `job.started` and sends the `plan` message. Planning and rendering run later in queue
 * consumers. A plan message that cannot be sent fails the job and gives its generation back.
 */
export async function startJob(input: JobStartInput, store: JobStartStore): Promise<StartedJob> {
  const { tenantId, jobId, createdAt, params, pin, generations } = input;
  const lock = await lockOfPin(tenantId, pin, params, store);
  const hashOfLock = await lockHash(lock);
  const generationKey = `${jobId}:generation`;
  const reservation = store.quotas.reserve("generations", generations.period, 1, generations.limit, generationKey);
  if (!reservation.granted) throw new QuotaExceededError("generations", reservation.limit, reservation.used);
  const job: StartedJob = {
    id: jobId,
    status: "queued",
    generator: lock.generator.name,
    pinned: false,
    lock: lock as unknown as Record<string, unknown>,
    lockHash: hashOfLock,
    params,
    dryRun: false,
    total: 0,
    done: 0,
    skipped: 0,
    bytes: 0,
    baseJobId: pin.kind === "rebase" ? pin.baseJobId : null,
    carried: 0,
    error: null,
    createdAt,
    updatedAt: createdAt,
  };
  try {
    await applyJobChange(store.db, tenantId, { kind: "create", job });
  } catch (error) {
    store.quotas.release("generations", generations.period, 1, `${generationKey}:release`);
    throw error;
  }
  store.appendStarted(job);
  try {
    await store.sendPlan({ kind: "plan", tenantId, jobId, traceparent: input.traceparent });
  } catch (error) {
    await store.failUnqueued(job, "The job could not be queued.");
    store.quotas.release("generations", generations.period, 1, `${generationKey}:release`);
    throw error;
  }
  return job;
}

async function lockOfPin(
  tenantId: string,
  pin: JobPin,
  params: Record<string, unknown>,
  store: Pick<JobStartStore, "db" | "graphs">,
): Promise<Lock> {
  switch (pin.kind) {
    case "lock":
      return pin.lock;
    case "rebase":
      return rebasedLock(pin.lock, pinnedVersion(store.graphs, { graph: pin.lock.graph.name, version: pin.version }));
    case "catalog": {
      const { name, templates, options } = await generatorOf(store.db, tenantId, pin);
      return lockOf(pinnedVersion(store.graphs, pin), { name, templates }, params, options);
    }
  }
}

function pinnedVersion(graphs: GraphService, pin: { graph: string; version?: number }) {
  return pinnedVersionOf(
    pin.graph,
    pin.version === undefined ? graphs.latest(pin.graph) : graphs.version(pin.graph, pin.version),
  );
}
