import type { PlatformClient } from "./platform-client";

/** A job as `GET /v1/jobs/{id}` answers it (the fields the CLI reads). */
export interface RemoteJob {
  id: string;
  status: "queued" | "running" | "completed" | "failed";
  lockHash: string;
  lock: { graph: { name: string; version: number | string }; generator: { name: string } };
  counts: { total: number; artifacts: number; skipped: number; bytes: number };
  error: string | null;
}

export const isFinished = (job: RemoteJob) => job.status === "completed" || job.status === "failed";

/**
 * Follows a job until it finishes, reporting each change of its state. Polling is one way; a follower
 * reading the platform's event stream can take its place behind the same interface.
 */
export interface JobFollower {
  follow(job: RemoteJob, onUpdate: (job: RemoteJob) => void): Promise<RemoteJob>;
}

export interface PollingOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Gives up (with the job as last seen) after this long. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Polls `GET /v1/jobs/{id}`, the delay doubling from `initialDelayMs` up to `maxDelayMs` while nothing changes. */
export function pollingJobFollower(client: PlatformClient, options: PollingOptions = {}): JobFollower {
  const initial = options.initialDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5_000;
  const timeout = options.timeoutMs ?? 30 * 60_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return {
    async follow(job, onUpdate) {
      const deadline = performance.now() + timeout;
      let current = job;
      let delay = initial;
      while (!isFinished(current)) {
        if (performance.now() > deadline) throw new JobFollowTimeout(current);
        await sleep(delay);
        const next = (await client.json<RemoteJob>("GET", `/v1/jobs/${encodeURIComponent(current.id)}`)).value;
        const changed = next.status !== current.status || next.counts.artifacts !== current.counts.artifacts;
        delay = changed ? initial : Math.min(max, delay * 2);
        current = next;
        if (changed) onUpdate(current);
      }
      return current;
    },
  };
}

export class JobFollowTimeout extends Error {
  constructor(readonly job: RemoteJob) {
    super(`job ${job.id} is still ${job.status}`);
    this.name = "JobFollowTimeout";
  }
}
