import { app } from "./app";

export { TenantObject } from "../durable-objects/tenant-object";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
