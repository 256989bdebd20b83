import { HttpError } from "../problems/http-error";
import { externalIdpFromEnv, type TokenConfig } from "./tokens";

/** Values shipped in .dev.vars.example: fine on a laptop, refused in production. */
export const DEV_ADMIN_TOKEN = "kgen-dev-admin";
export const DEV_MASTER_SECRET = "kgen-dev-master-secret-not-for-production";

export function isProduction(env: Env): boolean {
  return (env.ENVIRONMENT as string) === "production";
}

export function masterSecret(env: Env): string {
  const secret = env.MASTER_SECRET;
  if (!secret || (isProduction(env) && secret === DEV_MASTER_SECRET) || secret.length < 32) {
    throw new HttpError(500, "misconfigured", "Service misconfigured", "MASTER_SECRET is missing or unsafe.");
  }
  return secret;
}

export function tokenConfig(env: Env): TokenConfig {
  const keyVersion = Number(env.JWT_KEY_VERSION);
  return {
    masterSecret: masterSecret(env),
    keyVersion: Number.isInteger(keyVersion) && keyVersion >= 1 ? keyVersion : 1,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    external: externalIdpFromEnv(env as unknown as Record<string, string | undefined>),
  };
}
