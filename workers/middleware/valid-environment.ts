import type { MiddlewareHandler } from "hono";
import { assertValidEnvironment } from "../config/env-config";
import type { AppEnv } from "../context";

/** Answers 500 `misconfigured`, naming the setting, while the Worker's environment is invalid. */
export const validEnvironment: MiddlewareHandler<AppEnv> = async (c, next) => {
  assertValidEnvironment(c.env);
  await next();
};
