import { sha256Hex } from "../../shared/core/sha256";
import type { TracedMessage } from "../observability/trace-context";

/** A monitor run on the drift queue: from the cron (a due schedule) or from a new graph version. */
export interface MonitorRunMessage extends TracedMessage {
  kind: "monitor-run";
  tenantId: string;
  monitorId: string;
  runId: string;
  /** `schedule:<ISO time>` or `graph:<name>@<version>`. */
  trigger: string;
  /** Epoch ms: the schedule's time, or when the version was announced. */
  scheduledFor: number;
  /** The new graph version a graph-triggered run checks. */
  version?: number;
}

export function isMonitorRunMessage(body: unknown): body is MonitorRunMessage {
  return typeof body === "object" && body !== null && (body as { kind?: unknown }).kind === "monitor-run";
}

/** Run ids derive from (monitor, trigger): a redelivered or re-enqueued run is the same run. */
export async function monitorRunId(monitorId: string, trigger: string): Promise<string> {
  return `mrun_${(await sha256Hex(`${monitorId}\n${trigger}`)).slice(0, 32)}`;
}

export const scheduleTrigger = (at: Date) => `schedule:${at.toISOString()}`;
export const graphTrigger = (graph: string, version: number) => `graph:${graph}@${version}`;
