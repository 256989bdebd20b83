import { ENGINE_VERSION } from "../../../shared/version";
import type { AppRouteHandler } from "../../openapi";
import type * as routes from "./health.routes";

export const health: AppRouteHandler<typeof routes.health> = (c) =>
  c.json({ status: "ok" as const, version: ENGINE_VERSION }, 200);
