import type { MiddlewareHandler } from "hono";
import { planLimits } from "../../shared/plans";
import type { AppEnv } from "../context";
import { limitBody } from "./body-limit";

/** 413 `payload-too-large` for a body over the authenticated tenant's plan limit, declared or streamed. */
export const planBodyLimit: MiddlewareHandler<AppEnv> = (c, next) => {
  const { plan } = c.var.tenant;
  const maxSize = planLimits(plan).maxRequestBodyBytes;
  return limitBody(maxSize, `The ${plan} plan accepts bodies of up to ${maxSize} bytes.`)(c, next);
};
