import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../context";
import { assertPlainTemplateAddress } from "../template-address";

/** Refuses (422) an address under `prefix` that is not plain, before its parameters are validated. */
export function plainTemplateAddress(prefix: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    assertPlainTemplateAddress(c.req.url, prefix);
    await next();
  };
}
