import type { PinnedQuerySource } from "../../shared/generate/fetched-queries";
import { ImpactBudgetExceededError, type ImpactReport } from "../../shared/generate/impact";
import type { JobRenderer } from "../../shared/generate/job-renderer";
import type { Lock } from "../../shared/generate/lock";
import type { UnitBatch } from "../../shared/generate/plan";
import type { TenantSnapshot } from "../context";
import { database } from "../db/client";
import type { JobRow, TenantRow } from "../db/schema";
import { HttpError } from "../problems/http-error";
import { ArtifactIndex, type ArtifactRecord } from "../repository/artifact-index";
import { JobLedger } from "../repository/jobs";
import { artifactId } from "./artifact-writer";
import { jobImpact } from "./job-impact";

/** What one batch message of an incremental job does with its units. */
export interface CarryOver {
  baseJobId: string;
  /** Units of the batch to render: those the version changes or adds, and those the plan skips. */
  render: number[];
  /** Output paths of the batch's unchanged units: the base job's artifacts there are carried over. */
  carry: string[];
}

export interface IncrementalPlan {
  batches: { batch: UnitBatch; carryOver: CarryOver }[];
  /** Units carried over in all. */
  carried: number;
}

/**
 * Splits an incremental job's unit batches into units to render and units to carry over, from the impact of
 * the job's graph version on its base job (the same analysis as `GET /v1/jobs/{id}/impact`, with its budget).
 * A unit is carried over when its output path is one the impact reports unchanged: its bytes at this version
 * are the base artifact's. Undefined when the job must be generated in full instead: its base job is no
 * longer there and completed, or the impact is over its budget.
 */
export async function incrementalPlan(
  env: Env,
  tenant: TenantSnapshot,
  job: JobRow,
  lock: Lock,
  renderer: JobRenderer,
  source: PinnedQuerySource,
  batches: readonly UnitBatch[],
): Promise<IncrementalPlan | undefined> {
  if (!job.baseJobId) return undefined;
  const base = await new JobLedger(database(env.DB), tenant.id).find(job.baseJobId);
  if (base?.status !== "completed") return undefined;
  let report: ImpactReport;
  try {
    // The job's lock is the base lock rebased on this version (rebasedLock), the impact's target exactly.
    report = await jobImpact(env, tenant, base, Number(lock.graph.version));
  } catch (error) {
    if (error instanceof ImpactBudgetExceededError) return undefined;
    throw error;
  }
  const unchanged = new Set(report.artifacts.filter((a) => a.status === "unchanged").map((a) => a.path));
  const planned: IncrementalPlan["batches"] = [];
  let carried = 0;
  for (const batch of batches) {
    const prepared = await renderer.preparedTemplate(batch.template, source);
    const units = Array.from({ length: batch.end - batch.start }, (_, index) => batch.start + index);
    const paths = await renderer.unitPaths(prepared, units, source);
    const carryOver: CarryOver = { baseJobId: base.id, render: [], carry: [] };
    paths.forEach((unit, index) => {
      if (!("reason" in unit) && unchanged.has(unit.path)) carryOver.carry.push(unit.path);
      else carryOver.render.push(units[index] as number);
    });
    carried += carryOver.carry.length;
    planned.push({ batch, carryOver });
  }
  return { batches: planned, carried };
}

/** The base job's artifacts a batch carries over; a job whose base lost one of them fails (409 base-artifact-missing). */
export async function carriedArtifacts(
  env: Env,
  tenant: Pick<TenantRow, "id" | "jurisdiction">,
  carryOver: CarryOver,
): Promise<ArtifactRecord[]> {
  const index = new ArtifactIndex(env, tenant);
  return Promise.all(
    carryOver.carry.map(async (path) => {
      const row = await index.get(await artifactId(carryOver.baseJobId, path));
      if (!row || row.jobId !== carryOver.baseJobId)
        throw new HttpError(
          409,
          "base-artifact-missing",
          "Conflict",
          `The artifact ${path} of the base job ${carryOver.baseJobId} is no longer stored.`,
        );
      return row;
    }),
  );
}
