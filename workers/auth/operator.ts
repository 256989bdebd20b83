import type { MiddlewareHandler } from "hono";
import { utf8 } from "../../shared/core/encoding";
import type { AppEnv } from "../context";
import { HttpError } from "../problems/http-error";
import { bearerCredential } from "./authenticate";
import { DEV_ADMIN_TOKEN, isProduction } from "./config";

async function sameSecret(a: string, b: string): Promise<boolean> {
  // Compare digests so the comparison takes the same time whatever the lengths.
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", utf8(a)),
    crypto.subtle.digest("SHA-256", utf8(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/** Platform operators: `Authorization: Bearer <ADMIN_TOKEN>`, never the dev token in production. */
export const requireOperator: MiddlewareHandler<AppEnv> = async (c, next) => {
  const adminToken = c.env.ADMIN_TOKEN;
  if (!adminToken || (isProduction(c.env) && adminToken === DEV_ADMIN_TOKEN)) {
    throw new HttpError(
      403,
      "operator-disabled",
      "Forbidden",
      "Operator routes are disabled: ADMIN_TOKEN is not set, or is the development token in production.",
    );
  }
  const credential = bearerCredential(c.req.header("authorization"));
  if (!(await sameSecret(credential, adminToken))) {
    throw new HttpError(401, "unauthorized", "Unauthorized", "The operator token is not valid.", {
      headers: { "WWW-Authenticate": "Bearer" },
    });
  }
  await next();
};
