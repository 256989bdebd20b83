import { app } from "./app";
import { assertValidEnvironment } from "./config/env-config";
import { handleQueue } from "./queue";
import { runScheduledMaintenance } from "./scheduled";

export { MetricsObject } from "../durable-objects/metrics-object";
export { TenantObject } from "../durable-objects/tenant-object";

export default {
  fetch: app.fetch,
  // ctx is optional so tests can drive a batch without one (the metrics then wait for the next flush).
  async queue(batch: MessageBatch<unknown>, env: Env, ctx?: ExecutionContext) {
    // Thrown before any message is acked: the batch is retried once the configuration is fixed.
    assertValidEnvironment(env);
    return handleQueue(batch, env, ctx);
  },
  async scheduled(controller, env, ctx) {
    assertValidEnvironment(env);
    ctx.waitUntil(runScheduledMaintenance(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
