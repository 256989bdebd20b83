import { z } from "zod";
import { sha256BytesSync } from "../core/sha256";
import { isPlanName, PLAN_NAMES, type PlanName } from "../plans";

interface FlagDefinition<Value extends boolean | number | string> {
  schema: z.ZodType<Value>;
  description: string;
  /** The value every tenant on a plan has unless an operator overrides it. */
  defaults: Readonly<Record<PlanName, Value>>;
}

const onForEveryPlan = Object.freeze({ free: true, standard: true, premium: true, enterprise: true });

/**
 * Every feature flag, each gating a feature that exists: the API refuses what a flag turns off
 * (`feature-disabled`). Defaults keep today's behaviour on every plan; operators change them per tenant.
 */
export const FLAGS = Object.freeze({
  webhooks: {
    schema: z.boolean(),
    description: "Create, change, test and redeliver outbound webhooks (listing and deleting stay allowed).",
    defaults: onForEveryPlan,
  } satisfies FlagDefinition<boolean>,
  triggers: {
    schema: z.boolean(),
    description: "Create inbound-webhook triggers, and have deliveries to /v1/hooks/{id} run them.",
    defaults: onForEveryPlan,
  } satisfies FlagDefinition<boolean>,
  eventStreams: {
    schema: z.boolean(),
    description: "Open live event streams (SSE and WebSocket) and issue the tickets that open them.",
    defaults: onForEveryPlan,
  } satisfies FlagDefinition<boolean>,
  maxTokenTtlSeconds: {
    schema: z.number().int().min(60).max(900),
    description: "The longest lifetime POST /v1/auth/token grants a platform token, in seconds (60–900).",
    defaults: Object.freeze({ free: 900, standard: 900, premium: 900, enterprise: 900 }),
  } satisfies FlagDefinition<number>,
});

export type FlagName = keyof typeof FLAGS;
export type FlagValue<Name extends FlagName> = (typeof FLAGS)[Name]["defaults"][PlanName];
export type FlagValues = { [Name in FlagName]: FlagValue<Name> };
/** The flags that switch a feature on or off. */
export type BooleanFlagName = { [Name in FlagName]: FlagValue<Name> extends boolean ? Name : never }[FlagName];

export const FLAG_NAMES = Object.keys(FLAGS).sort() as FlagName[];

export function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(FLAGS, name);
}

/** A scalar a flag may take; which one a given flag accepts is its own schema's business. */
export const flagValueSchema = z.union([z.boolean(), z.number(), z.string()]);
export type AnyFlagValue = z.infer<typeof flagValueSchema>;

/** A percentage rollout: tenants whose bucket is below `percentage` get `value`, the others `otherwise` (or the plan default). */
export interface FlagRollout {
  percentage: number;
  value: AnyFlagValue;
  otherwise?: AnyFlagValue;
}

/** An operator's override of one flag: a fixed value or a rollout. */
export type FlagOverride = AnyFlagValue | FlagRollout;
/** What a tenant's row stores: overrides by flag name; flags not named follow the plan. */
export type FlagOverrides = Partial<Record<FlagName, FlagOverride>>;

const rolloutShape = z.strictObject({
  percentage: z.number().int().min(0).max(100),
  value: z.unknown(),
  otherwise: z.unknown().optional(),
});

/** The override of one flag checked against that flag's schema, or the issues naming what is wrong. */
type OverrideIssue = { path: PropertyKey[]; message: string };

function parseOverride(
  name: FlagName,
  input: unknown,
): { ok: true; override: FlagOverride } | { ok: false; issues: OverrideIssue[] } {
  const schema = FLAGS[name].schema as z.ZodType<AnyFlagValue>;
  const issuesOf = (error: z.ZodError, at: string): OverrideIssue[] =>
    error.issues.map((issue) => ({ path: [name, ...(at ? [at] : []), ...issue.path], message: issue.message }));
  if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    const rollout = rolloutShape.safeParse(input);
    if (!rollout.success) return { ok: false, issues: issuesOf(rollout.error, "") };
    const value = schema.safeParse(rollout.data.value);
    if (!value.success) return { ok: false, issues: issuesOf(value.error, "value") };
    if (rollout.data.otherwise === undefined)
      return { ok: true, override: { percentage: rollout.data.percentage, value: value.data } };
    const otherwise = schema.safeParse(rollout.data.otherwise);
    if (!otherwise.success) return { ok: false, issues: issuesOf(otherwise.error, "otherwise") };
    return {
      ok: true,
      override: { percentage: rollout.data.percentage, value: value.data, otherwise: otherwise.data },
    };
  }
  const value = schema.safeParse(input);
  return value.success ? { ok: true, override: value.data } : { ok: false, issues: issuesOf(value.error, "") };
}

/**
 * The body of PUT /v1/tenants/{id}/flags: the tenant's complete set of overrides (a flag left out
 * follows its plan default). Every value is checked against its flag's schema; unknown flags are refused.
 */
export const flagOverridesSchema = z
  .record(z.string(), z.union([flagValueSchema, rolloutShape]))
  .transform((input, ctx) => {
    // More entries than flags cannot all be valid: one issue, not one per entry of a hostile body.
    if (Object.keys(input).length > FLAG_NAMES.length) {
      ctx.addIssue({ code: "custom", message: `at most ${FLAG_NAMES.length} flags: ${FLAG_NAMES.join(", ")}` });
      return z.NEVER;
    }
    const overrides: FlagOverrides = {};
    for (const [name, value] of Object.entries(input)) {
      if (!isFlagName(name)) {
        ctx.addIssue({ code: "custom", path: [name], message: `unknown flag; known flags: ${FLAG_NAMES.join(", ")}` });
        continue;
      }
      const parsed = parseOverride(name, value);
      if (parsed.ok) overrides[name] = parsed.override;
      else for (const issue of parsed.issues) ctx.addIssue({ code: "custom", ...issue });
    }
    return overrides;
  });

/**
 * Where a tenant falls in a rollout of `flag`: the first four bytes of SHA-256 over
 * `<flag>:<tenantId>` (UTF-8) as a big-endian unsigned integer, modulo 100. Stable for a tenant and
 * flag, independent between flags; a rollout of p% reaches the tenants with bucket < p.
 */
export function rolloutBucket(flag: string, tenantId: string): number {
  const digest = sha256BytesSync(`${flag}:${tenantId}`);
  const word =
    ((digest[0] as number) << 24) |
    ((digest[1] as number) << 16) |
    ((digest[2] as number) << 8) |
    (digest[3] as number);
  return (word >>> 0) % 100;
}

export type FlagSource = "plan" | "override" | "rollout";

export interface EffectiveFlag {
  value: AnyFlagValue;
  source: FlagSource;
  /** For a rollout: the tenant's bucket and whether it is inside the percentage. */
  rollout?: { percentage: number; bucket: number; included: boolean };
}

/** The tenant the flags are resolved for: what the edge knows of it. */
export interface FlagSubject {
  id: string;
  plan: string;
  flags: FlagOverrides | null | undefined;
}

function planOf(plan: string): PlanName {
  // A plan the registry does not know (renamed since) reads as the smallest one.
  return isPlanName(plan) ? plan : PLAN_NAMES[0];
}

/** One flag's effective value for a tenant, and where it comes from. Stored overrides that no longer validate are ignored. */
export function resolveFlag(name: FlagName, tenant: FlagSubject): EffectiveFlag {
  const fallback: EffectiveFlag = { value: FLAGS[name].defaults[planOf(tenant.plan)], source: "plan" };
  const stored = tenant.flags ? (tenant.flags as Record<string, unknown>)[name] : undefined;
  if (stored === undefined) return fallback;
  const parsed = parseOverride(name, stored);
  if (!parsed.ok) return fallback;
  const { override } = parsed;
  if (typeof override !== "object") return { value: override, source: "override" };
  const bucket = rolloutBucket(name, tenant.id);
  const included = bucket < override.percentage;
  return {
    value: included ? override.value : (override.otherwise ?? fallback.value),
    source: "rollout",
    rollout: { percentage: override.percentage, bucket, included },
  };
}

/** Every flag's effective value for a tenant (plain values, by name). */
export function effectiveFlagValues(tenant: FlagSubject): FlagValues {
  const values: Record<string, AnyFlagValue> = {};
  for (const name of FLAG_NAMES) values[name] = resolveFlag(name, tenant).value;
  return values as FlagValues;
}

/** The stored overrides of a tenant, read leniently (anything that is not an object is none). */
export function storedFlagOverrides(value: unknown): FlagOverrides {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as FlagOverrides) : {};
}

export const flagSourceSchema = z.enum(["plan", "override", "rollout"]);

const flagOverrideViewSchema = z.union([
  flagValueSchema,
  z.object({ percentage: z.number().int(), value: flagValueSchema, otherwise: flagValueSchema.optional() }),
]);

export const tenantFlagSchema = z
  .object({
    value: flagValueSchema.describe("The effective value"),
    source: flagSourceSchema.describe("Where the value comes from: the plan default, a fixed override or a rollout"),
    planDefault: flagValueSchema,
    override: flagOverrideViewSchema.nullable(),
    rollout: z
      .object({ percentage: z.number().int(), bucket: z.number().int(), included: z.boolean() })
      .optional()
      .describe("For a rollout: the tenant's bucket (0–99) and whether it is below the percentage"),
    description: z.string(),
  })
  .meta({ id: "TenantFlag" });

export const tenantFlagsSchema = z
  .object({
    tenantId: z.string(),
    plan: z.string(),
    flags: z.record(z.string(), tenantFlagSchema),
  })
  .meta({ id: "TenantFlags" });

export const putTenantFlagsSchema = z
  .object({
    overrides: flagOverridesSchema.describe(
      "Every override of the tenant (replaces the previous set): a fixed value, or `{percentage, value, otherwise?}`",
    ),
  })
  .meta({ id: "TenantFlagOverrides" });

/** Effective flag values by name, as the tenant sees them in GET /v1/me. */
export const flagValuesSchema = z.record(z.string(), flagValueSchema).meta({ id: "FlagValues" });

/** What an operator sees of a tenant's flags: each effective value, its source, default and override. */
export function tenantFlagsView(tenant: FlagSubject): z.infer<typeof tenantFlagsSchema> {
  const flags: Record<string, z.infer<typeof tenantFlagSchema>> = {};
  for (const name of FLAG_NAMES) {
    const effective = resolveFlag(name, tenant);
    const stored = tenant.flags ? (tenant.flags as Record<string, FlagOverride | undefined>)[name] : undefined;
    flags[name] = {
      value: effective.value,
      source: effective.source,
      planDefault: FLAGS[name].defaults[planOf(tenant.plan)],
      override: effective.source === "plan" ? null : (stored ?? null),
      ...(effective.rollout ? { rollout: effective.rollout } : {}),
      description: FLAGS[name].description,
    };
  }
  return { tenantId: tenant.id, plan: tenant.plan, flags };
}
