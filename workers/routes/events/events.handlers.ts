import type { AppRouteHandler } from "../../openapi";
import { tenantObject } from "../../tenant-object-stub";
import type * as routes from "./events.routes";

export const listEvents: AppRouteHandler<typeof routes.listEvents> = async (c) => {
  const { after, limit } = c.req.valid("query");
  const page = await tenantObject(c.env, c.var.tenant).readEvents({ after, limit });
  return c.json(page, 200);
};
