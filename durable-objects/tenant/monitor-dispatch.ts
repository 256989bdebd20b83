import type { SqlDatabase } from "../../shared/sql/sql-database";
import { database } from "../../workers/db/client";
import { graphTrigger, type MonitorRunMessage, monitorRunId } from "../../workers/monitors/monitor-run-message";
import { MonitorRegistry } from "../../workers/repository/monitors";
import type { EventLog } from "./event-log";

const EVENTS_PER_DISPATCH = 100;
/** Messages per sendBatch call (the Queues limit). */
const SEND_BATCH = 100;
/** After a failed send or D1 read, the next try waits this long. */
export const MONITOR_DISPATCH_RETRY_MS = 5_000;

export interface MonitorQueue {
  sendBatch(messages: { body: MonitorRunMessage; contentType: "json" }[]): Promise<unknown>;
}

/**
 * The graph-monitor side of the event fan-out: each `graph.version.created` after the dispatcher's cursor
 * becomes one run message per enabled monitor watching that graph, on the drift queue (never in the
 * upload's request). The cursor moves only once the queue took the messages; a retry re-sends the same
 * run ids, which the consumer recognises.
 */
export class MonitorDispatcher {
  constructor(
    private readonly db: SqlDatabase,
    private readonly events: EventLog,
    private readonly d1: D1Database,
    private readonly queue: () => MonitorQueue,
  ) {}

  /** Starts watching from the current end of the log (older versions start nothing); idempotent. */
  watch(tenantId: string): void {
    this.db.run("INSERT OR IGNORE INTO monitor_dispatch (id, tenant_id, cursor) VALUES (1, ?, ?)", [
      tenantId,
      this.events.head(),
    ]);
  }

  /** Queues the runs of new graph versions; when to run again (0: more waits, null: caught up). */
  async dispatch(): Promise<{ enqueued: number; againInMs: number | null }> {
    const state = this.db.query<{ tenant_id: string; cursor: number }>(
      "SELECT tenant_id, cursor FROM monitor_dispatch WHERE id = 1",
    )[0];
    if (state === undefined) return { enqueued: 0, againInMs: null };
    const page = this.events.read(Number(state.cursor), EVENTS_PER_DISPATCH, ["graph.version.created"]);
    if (page.nextCursor === Number(state.cursor)) return { enqueued: 0, againInMs: null };
    const messages: MonitorRunMessage[] = [];
    try {
      const registry = new MonitorRegistry(database(this.d1), state.tenant_id);
      for (const event of page.events) {
        const { graph, version } = event.data as { graph: string; version: number };
        for (const monitor of await registry.watching(graph)) {
          const trigger = graphTrigger(graph, version);
          messages.push({
            kind: "monitor-run",
            tenantId: state.tenant_id,
            monitorId: monitor.id,
            runId: await monitorRunId(monitor.id, trigger),
            trigger,
            scheduledFor: event.createdAt,
            version,
          });
        }
      }
      for (let start = 0; start < messages.length; start += SEND_BATCH) {
        await this.queue().sendBatch(
          messages.slice(start, start + SEND_BATCH).map((body) => ({ body, contentType: "json" as const })),
        );
      }
    } catch (error) {
      console.error(JSON.stringify({ level: "error", msg: "monitor dispatch failed", error: String(error) }));
      return { enqueued: 0, againInMs: MONITOR_DISPATCH_RETRY_MS };
    }
    this.db.run("UPDATE monitor_dispatch SET cursor = MAX(cursor, ?) WHERE id = 1", [page.nextCursor]);
    return { enqueued: messages.length, againInMs: page.hasMore ? 0 : null };
  }
}
