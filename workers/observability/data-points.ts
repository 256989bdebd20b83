/**
 * The Analytics Engine layout, the same for every kind of data point so one SQL query can read them
 * all (docs/operations.md, "Metrics and traces"; docs/grafana-dashboard.json queries these columns):
 *
 * | column  | request            | queue-batch          | job                  | delivery                  |
 * |---------|--------------------|----------------------|----------------------|---------------------------|
 * | index1  | tenant id, or `platform` when the work has no tenant (sampling key)                          |
 * | blob1   | `request`          | `queue-batch`        | `job`                | `delivery`                |
 * | blob2   | tenant id or ``    | ``                   | tenant id            | tenant id                 |
 * | blob3   | plan or ``         | ``                   | plan or ``           | ``                        |
 * | blob4   | route template     | queue name           | `generate`           | event type                |
 * | blob5   | HTTP status        | `ok` / `retried`     | `completed`/`failed` | `delivered`/`retry`/`failed` |
 * | blob6   | HTTP method        | ``                   | ``                   | ``                        |
 * | blob7   | trace id           | ``                   | trace id or ``       | trace id or ``            |
 * | double1 | duration (ms)      | duration (ms)        | duration (ms)        | duration (ms)             |
 * | double2 | response bytes     | ``                   | artifact bytes       | request body bytes        |
 * | double3 | HTTP status        | messages             | artifacts            | response status (0: none) |
 * | double4 | 1 if status ≥ 500  | messages retried     | 1 if failed          | 1 if not delivered        |
 */
export const DATA_POINT_COLUMNS = {
  kind: "blob1",
  tenant: "blob2",
  plan: "blob3",
  name: "blob4",
  outcome: "blob5",
  method: "blob6",
  traceId: "blob7",
  durationMs: "double1",
  bytes: "double2",
  amount: "double3",
  failures: "double4",
} as const;

export const DATA_POINT_KINDS = ["request", "queue-batch", "job", "delivery"] as const;
export type DataPointKind = (typeof DATA_POINT_KINDS)[number];

export interface DataPoint {
  kind: DataPointKind;
  tenant?: string;
  plan?: string;
  name: string;
  outcome: string;
  method?: string;
  traceId?: string;
  durationMs: number;
  bytes?: number;
  amount: number;
  failures: number;
}

/** Writes one data point; never throws (a metric must not fail the work it measures). */
export function writeDataPoint(env: Env, point: DataPoint): void {
  try {
    env.METRICS?.writeDataPoint({
      indexes: [point.tenant || "platform"],
      blobs: [
        point.kind,
        point.tenant ?? "",
        point.plan ?? "",
        point.name,
        point.outcome,
        point.method ?? "",
        point.traceId ?? "",
      ],
      doubles: [finite(point.durationMs), finite(point.bytes ?? 0), finite(point.amount), finite(point.failures)],
    });
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "metrics data point dropped", error: String(error) }));
  }
}

const finite = (value: number) => (Number.isFinite(value) ? value : 0);
