import { z } from "zod";
import { DEV_MASTER_SECRET } from "../auth/config";
import { HttpError } from "../problems/http-error";

const positiveInteger = z.string().regex(/^[1-9][0-9]{0,14}$/, "a positive integer");
const present = (what: string) =>
  z.custom<object>((value) => typeof value === "object" && value !== null, `the ${what} binding is missing`);
const optionalText = z.string().optional();

/**
 * Every setting the Worker reads, vars, secrets and bindings alike. A missing or malformed one stops
 * the Worker before it serves anything, with a message that names it, instead of failing later on
 * the one route that happens to read it.
 */
export const envConfigSchema = z
  .object({
    ENVIRONMENT: z.enum(["development", "staging", "production"]),
    JWT_ISSUER: z.string().min(1),
    JWT_AUDIENCE: z.string().min(1),
    JWT_KEY_VERSION: positiveInteger,
    AUTH_TENANT_CLAIM: z.string().min(1),
    AUTH_ROLE_CLAIM: z.string().min(1),
    AUTH_ALGORITHMS: z
      .string()
      .regex(/^[A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*$/, "a comma-separated list of JWS algorithms"),
    MAX_BODY_BYTES: positiveInteger,
    USAGE_FLUSH_DELAY_MS: positiveInteger,
    METRICS_FLUSH_DELAY_MS: positiveInteger,
    MASTER_SECRET: z.string({ error: "the secret is missing" }).min(32, "must be at least 32 characters"),
    // Optional: without it operator routes answer 403 operator-disabled.
    ADMIN_TOKEN: optionalText,
    AUTH_ISSUER: optionalText,
    AUTH_AUDIENCE: optionalText,
    AUTH_JWKS_URL: z.union([z.literal(""), z.url({ protocol: /^https?$/ })]).optional(),
    AUTH_JWKS: z
      .string()
      .refine((text) => text === "" || isJson(text), "must be a JSON Web Key Set")
      .optional(),
    DB: present("D1"),
    ARTIFACTS: present("R2"),
    TENANT: present("Durable Object"),
    METRICS_OBJECT: present("Durable Object"),
    METRICS: present("Analytics Engine"),
    GENERATE_QUEUE: present("queue"),
    DRIFT_QUEUE: present("queue"),
    DELIVER_QUEUE: present("queue"),
    ABUSE_LIMITER: present("rate limit"),
    RATE_LIMIT_FREE: present("rate limit"),
    RATE_LIMIT_STANDARD: present("rate limit"),
    RATE_LIMIT_PREMIUM: present("rate limit"),
    RATE_LIMIT_ENTERPRISE: present("rate limit"),
  })
  .superRefine((config, ctx) => {
    if (config.ENVIRONMENT === "production" && config.MASTER_SECRET === DEV_MASTER_SECRET) {
      ctx.addIssue({ code: "custom", path: ["MASTER_SECRET"], message: "is the development secret in production" });
    }
  });

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The first problem of each setting, as `NAME: what is wrong`, or an empty list when the environment is valid. */
export function environmentProblems(env: unknown): string[] {
  const parsed = envConfigSchema.safeParse(env);
  if (parsed.success) return [];
  const bySetting = new Map<string, string>();
  for (const issue of parsed.error.issues) {
    const setting = String(issue.path[0] ?? "environment");
    const missing = issue.code === "invalid_type" && issue.input === undefined;
    if (!bySetting.has(setting)) bySetting.set(setting, `${setting}: ${missing ? "missing" : issue.message}`);
  }
  return [...bySetting.values()];
}

/** Thrown on the first request, queue batch or cron run of an isolate whose environment is invalid. */
export class InvalidEnvironmentError extends HttpError {
  constructor(readonly problems: string[]) {
    super(500, "misconfigured", "Service misconfigured", `Invalid configuration: ${problems.join("; ")}.`);
  }
}

// Once per environment object, so once per isolate in production (tests pass environments of their own).
const checked = new WeakMap<object, string[]>();

/** Validates the environment the first time it is seen; throws InvalidEnvironmentError (and logs it) when it is wrong. */
export function assertValidEnvironment(env: Env): void {
  let problems = checked.get(env);
  if (problems === undefined) {
    problems = environmentProblems(env);
    checked.set(env, problems);
    if (problems.length > 0) {
      console.error(JSON.stringify({ level: "error", msg: "invalid configuration", problems }));
    }
  }
  if (problems.length > 0) throw new InvalidEnvironmentError(problems);
}
