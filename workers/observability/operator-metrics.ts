import { writeDataPoint } from "./data-points";
import { type MetricsBatch, metricsBatch } from "./metrics-batch";

/** Every metric `/v1/admin/metrics` exposes, with its Prometheus type and help text. */
export const METRIC_DEFINITIONS = {
  kgen_http_requests_total: { type: "counter", help: "HTTP requests answered, by route template, method and status." },
  kgen_http_request_duration_seconds: {
    type: "histogram",
    help: "Time to answer an HTTP request, by route template and method.",
  },
  kgen_quota_rejections_total: {
    type: "counter",
    help: "Requests refused by a plan quota or rate limit, by route template and problem type.",
  },
  kgen_queue_messages_sent_total: { type: "counter", help: "Messages sent to a queue by the Worker." },
  kgen_queue_messages_total: {
    type: "counter",
    help: "Messages a queue consumer settled, by queue and outcome (acked, retried).",
  },
  kgen_queue_dead_letters_total: { type: "counter", help: "Messages that reached a queue's dead-letter queue." },
  kgen_queue_depth: {
    type: "gauge",
    help: "Messages sent to a queue and not yet acked or dead-lettered (sent − acked − dead-lettered).",
  },
  kgen_queue_batch_duration_seconds: { type: "histogram", help: "Time a queue consumer took for one batch." },
  kgen_jobs_total: { type: "counter", help: "Generation jobs that finished, by state (completed, failed)." },
  kgen_job_duration_seconds: { type: "histogram", help: "Time from a job's start to its completion or failure." },
  kgen_webhook_deliveries_total: {
    type: "counter",
    help: "Webhook delivery attempts, by outcome (delivered, retry, failed).",
  },
} as const satisfies Record<string, { type: "counter" | "histogram" | "gauge"; help: string }>;

export type MetricName = keyof typeof METRIC_DEFINITIONS;

const QUOTA_PROBLEMS = new Set(["quota-exceeded", "rate-limited"]);

export interface RequestObservation {
  tenant?: { id: string; plan: string };
  method: string;
  /** The matched route template (`/v1/jobs/:id`), never the raw URL. */
  route: string;
  status: number;
  durationMs: number;
  responseBytes: number;
  problemType?: string;
  traceId: string;
}

export function observeRequest(env: Env, request: RequestObservation, batch: MetricsBatch = metricsBatch): void {
  writeDataPoint(env, {
    kind: "request",
    tenant: request.tenant?.id,
    plan: request.tenant?.plan,
    name: request.route,
    outcome: String(request.status),
    method: request.method,
    traceId: request.traceId,
    durationMs: request.durationMs,
    bytes: request.responseBytes,
    amount: request.status,
    failures: request.status >= 500 ? 1 : 0,
  });
  const route = { route: request.route, method: request.method };
  batch.count("kgen_http_requests_total", { ...route, status: String(request.status) });
  batch.observe("kgen_http_request_duration_seconds", route, request.durationMs / 1000);
  if (request.problemType && QUOTA_PROBLEMS.has(request.problemType)) {
    batch.count("kgen_quota_rejections_total", { route: request.route, type: request.problemType });
  }
}

/** `kgen-generate-staging-dlq` → `generate`: the queue's role, the same in every environment. */
export function queueRole(queueName: string): string {
  return queueName
    .replace(/^kgen-/, "")
    .replace(/-dlq$/, "")
    .replace(/-(staging|production)$/, "");
}

export interface QueueBatchObservation {
  queue: string;
  deadLetters: boolean;
  messages: number;
  acked: number;
  retried: number;
  durationMs: number;
}

export function observeQueueBatch(env: Env, observed: QueueBatchObservation, batch: MetricsBatch = metricsBatch): void {
  const queue = queueRole(observed.queue);
  writeDataPoint(env, {
    kind: "queue-batch",
    name: observed.deadLetters ? `${queue}-dlq` : queue,
    outcome: observed.retried > 0 ? "retried" : "ok",
    durationMs: observed.durationMs,
    amount: observed.messages,
    failures: observed.retried,
  });
  if (observed.deadLetters) {
    batch.count("kgen_queue_dead_letters_total", { queue }, observed.messages);
    return;
  }
  if (observed.acked > 0) batch.count("kgen_queue_messages_total", { queue, outcome: "acked" }, observed.acked);
  if (observed.retried > 0) batch.count("kgen_queue_messages_total", { queue, outcome: "retried" }, observed.retried);
  batch.observe("kgen_queue_batch_duration_seconds", { queue }, observed.durationMs / 1000);
}

export type QueueRole = "generate" | "drift" | "deliver" | "erase";

export function countQueueSent(queue: QueueRole, messages: number): void {
  if (messages > 0) metricsBatch.count("kgen_queue_messages_sent_total", { queue }, messages);
}

export interface JobObservation {
  tenant: { id: string; plan?: string };
  state: "completed" | "failed";
  durationMs: number;
  artifacts: number;
  artifactBytes: number;
  traceId?: string;
}

export function observeJob(env: Env, job: JobObservation, batch: MetricsBatch = metricsBatch): void {
  writeDataPoint(env, {
    kind: "job",
    tenant: job.tenant.id,
    plan: job.tenant.plan,
    name: "generate",
    outcome: job.state,
    traceId: job.traceId,
    durationMs: job.durationMs,
    bytes: job.artifactBytes,
    amount: job.artifacts,
    failures: job.state === "failed" ? 1 : 0,
  });
  batch.count("kgen_jobs_total", { state: job.state });
  batch.observe("kgen_job_duration_seconds", {}, job.durationMs / 1000);
}

export interface DeliveryObservation {
  tenantId: string;
  eventType: string;
  outcome: "delivered" | "retry" | "failed";
  responseStatus: number;
  durationMs: number;
  bodyBytes: number;
  traceId?: string;
}

export function observeDelivery(env: Env, delivery: DeliveryObservation, batch: MetricsBatch = metricsBatch): void {
  writeDataPoint(env, {
    kind: "delivery",
    tenant: delivery.tenantId,
    name: delivery.eventType,
    outcome: delivery.outcome,
    traceId: delivery.traceId,
    durationMs: delivery.durationMs,
    bytes: delivery.bodyBytes,
    amount: delivery.responseStatus,
    failures: delivery.outcome === "delivered" ? 0 : 1,
  });
  batch.count("kgen_webhook_deliveries_total", { outcome: delivery.outcome });
}
