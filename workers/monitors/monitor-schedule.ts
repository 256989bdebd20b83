import { Cron } from "croner";

/** Runs looked at to find a schedule's shortest gap: enough for any minute/hour pattern within a week. */
const SAMPLED_RUNS = 400;
const MINUTE_MS = 60_000;

export class MonitorScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MonitorScheduleError";
  }
}

function parse(expression: string): Cron {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5)
    throw new MonitorScheduleError(
      `"${expression}" has ${fields.length} fields; a schedule has five (minute hour day-of-month month day-of-week).`,
    );
  try {
    return new Cron(fields.join(" "), { paused: true, timezone: "UTC" });
  } catch (error) {
    throw new MonitorScheduleError(`"${expression}" is not a cron expression: ${(error as Error).message}`);
  }
}

/**
 * Checks a schedule and returns it normalized (single spaces). Refused: anything but five cron fields,
 * a schedule that never fires, and one whose runs come closer together than `minIntervalMinutes`
 * (checked over the next SAMPLED_RUNS runs from `from`).
 */
export function checkSchedule(expression: string, minIntervalMinutes: number, from: Date): string {
  const cron = parse(expression);
  const runs = cron.nextRuns(SAMPLED_RUNS, from);
  if (runs.length === 0) throw new MonitorScheduleError(`"${expression}" never fires.`);
  for (let i = 1; i < runs.length; i++) {
    const gap = (runs[i] as Date).getTime() - (runs[i - 1] as Date).getTime();
    if (gap < minIntervalMinutes * MINUTE_MS)
      throw new MonitorScheduleError(
        `"${expression}" runs ${gap / MINUTE_MS} minutes apart; your plan allows one run every ${minIntervalMinutes} minutes at most.`,
      );
  }
  return expression.trim().split(/\s+/).join(" ");
}

/** The first time the schedule fires strictly after `after`, or null if it never does again. */
export function nextRunAfter(expression: string, after: Date): Date | null {
  return parse(expression).nextRun(after);
}
