import { app } from "./app";
import { assertValidEnvironment } from "./config/env-config";
import { handleQueue } from "./queue";
import { runScheduledMaintenance } from "./scheduled";

export { MetricsObject } from "../durable-objects/metrics-object";
export { TenantObject } from "../durable-objects/tenant-object";

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    // Thrown before any message is acked: the batch is retried once the configuration is fixed.
    assertValidEnvironment(env);
    return handleQueue(batch, env);
  },
  async scheduled(controller, env, ctx) {
    assertValidEnvironment(env);
    ctx.waitUntil(runScheduledMaintenance(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
