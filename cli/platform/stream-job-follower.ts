import { createParser } from "eventsource-parser";
import { isFinished, type JobFollower, JobFollowTimeout, type RemoteJob } from "./job-follower";
import type { PlatformClient } from "./platform-client";

export interface StreamingOptions {
  /** Re-reads the job after this long without one of its events (a missed event never stalls the follower). */
  quietMs?: number;
  timeoutMs?: number;
}

/**
 * Follows a job through the platform's event stream (`GET /v1/events/stream?types=job.*&after=latest`):
 * each event of the job wakes the follower, which then reads the job itself, so the job's own state is
 * the only truth and an event missed between the job's start and the stream's opening costs at most
 * one read. When the stream cannot be opened or breaks off, `fallback` (polling) takes over.
 */
export function streamingJobFollower(
  client: PlatformClient,
  fallback: JobFollower,
  options: StreamingOptions = {},
): JobFollower & { followedBy(): "event-stream" | "polling" } {
  const quietMs = options.quietMs ?? 15_000;
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  let followedBy: "event-stream" | "polling" = "event-stream";
  return {
    followedBy: () => followedBy,
    async follow(job, onUpdate) {
      const controller = new AbortController();
      const body = await client.openEventStream("/v1/events/stream?types=job.*&after=latest", controller.signal);
      if (body === null) {
        followedBy = "polling";
        return fallback.follow(job, onUpdate);
      }
      const wake = new JobEvents(job.id);
      const pumping = wake.pump(body);
      const deadline = performance.now() + timeoutMs;
      try {
        let current = job;
        for (;;) {
          const next = (await client.json<RemoteJob>("GET", `/v1/jobs/${encodeURIComponent(job.id)}`)).value;
          if (next.status !== current.status || next.counts.artifacts !== current.counts.artifacts) onUpdate(next);
          current = next;
          if (isFinished(current)) return current;
          if (performance.now() > deadline) throw new JobFollowTimeout(current);
          if (!(await wake.next(quietMs))) {
            followedBy = "polling";
            return fallback.follow(current, onUpdate);
          }
        }
      } finally {
        controller.abort();
        await pumping;
      }
    },
  };
}

/** The stream's events of one job, as wake-ups: `next` settles on the next one, or after `quietMs`. */
class JobEvents {
  private pending = 0;
  private waiting: ((open: boolean) => void) | undefined;
  private open = true;

  constructor(private readonly jobId: string) {}

  async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const parser = createParser({
      onEvent: (message) => {
        try {
          const data = (JSON.parse(message.data) as { data?: { jobId?: unknown } }).data;
          if (data?.jobId === this.jobId) this.signal();
        } catch {
          // Not an event of ours (or not JSON): nothing to wake for.
        }
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // Aborted when the follower is done, or the connection broke: either way the stream is over.
    }
    this.open = false;
    this.waiting?.(false);
  }

  /** True when an event of the job arrived (or the quiet time passed); false once the stream is over. */
  next(quietMs: number): Promise<boolean> {
    if (this.pending > 0) {
      this.pending = 0;
      return Promise.resolve(true);
    }
    if (!this.open) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(true), quietMs);
      const settle = (open: boolean) => {
        clearTimeout(timer);
        this.waiting = undefined;
        this.pending = 0;
        resolve(open);
      };
      this.waiting = settle;
    });
  }

  private signal(): void {
    if (this.waiting) this.waiting(true);
    else this.pending++;
  }
}
