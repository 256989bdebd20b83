import { database } from "../db/client";
import { countQueueSent } from "../observability/operator-metrics";
import { advanceMonitor, dueMonitors } from "../repository/monitors";
import { type MonitorRunMessage, monitorRunId, scheduleTrigger } from "./monitor-run-message";
import { nextRunAfter } from "./monitor-schedule";

/** Due monitors one cron run enqueues at most; the rest are found by the next run (oldest due first). */
export const DUE_MONITORS_PER_RUN = 500;
/** Messages per sendBatch call (the Queues limit). */
const SEND_BATCH = 100;

export interface DueMonitorsRun {
  enqueued: number;
  /** True when the page was full: more monitors may be due. */
  more: boolean;
}

/**
 * Cron: queues one run per due monitor on the drift queue, then moves each monitor's next run past the
 * cron's time (runs missed while the platform was down are not made up: one run covers them). The run id
 * comes from the monitor and the scheduled time, so a cron run that dies between the send and the move
 * re-sends the same runs, which the consumer recognises.
 */
export async function enqueueDueMonitors(env: Env, scheduledTime: number): Promise<DueMonitorsRun> {
  const db = database(env.DB);
  const now = new Date(scheduledTime);
  const due = await dueMonitors(db, now.toISOString(), DUE_MONITORS_PER_RUN);
  if (due.length === 0) return { enqueued: 0, more: false };
  const messages: MonitorRunMessage[] = [];
  for (const monitor of due) {
    const at = new Date(monitor.nextRunAt as string);
    const trigger = scheduleTrigger(at);
    messages.push({
      kind: "monitor-run",
      tenantId: monitor.tenantId,
      monitorId: monitor.id,
      runId: await monitorRunId(monitor.id, trigger),
      trigger,
      scheduledFor: at.getTime(),
    });
  }
  const queue = env.DRIFT_QUEUE as Queue<MonitorRunMessage>;
  for (let start = 0; start < messages.length; start += SEND_BATCH) {
    const chunk = messages.slice(start, start + SEND_BATCH);
    await queue.sendBatch(chunk.map((body) => ({ body, contentType: "json" })));
    countQueueSent("drift", chunk.length);
  }
  for (const monitor of due) {
    const next = monitor.schedule ? nextRunAfter(monitor.schedule, now) : null;
    await advanceMonitor(db, monitor.id, monitor.nextRunAt as string, next?.toISOString() ?? null);
  }
  return { enqueued: messages.length, more: due.length === DUE_MONITORS_PER_RUN };
}
