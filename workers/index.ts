import { app } from "./app";
import { handleQueue } from "./queue";
import { runScheduledMaintenance } from "./scheduled";

export { TenantObject } from "../durable-objects/tenant-object";

export default {
  fetch: app.fetch,
  queue: handleQueue,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduledMaintenance(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
