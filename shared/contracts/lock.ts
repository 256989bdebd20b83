import { z } from "zod";
import { isValidOutputPath } from "../template/output-path";

/** Lowercase hex SHA-256, the form every hash in a lock takes (template and params hashes). */
export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase hex SHA-256 digest");

/**
 * A graph hash as the graph layer reports it: the RDFC-1.0 canonical SHA-256, bare hex or
 * prefixed `sha256:` / `content://sha256/` (upstream KGEN's form).
 */
export const graphHashSchema = z
  .string()
  .regex(/^(?:sha256:|content:\/\/sha256\/)?[0-9a-f]{64}$/, "expected a SHA-256 graph hash");

/**
 * Build time in its one canonical spelling, `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds), so
 * that it hashes the same everywhere. See deriveBuildTime in shared/generate/lock.ts.
 */
export const buildTimeSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, "expected YYYY-MM-DDTHH:MM:SSZ")
  .refine((value) => {
    const time = Date.parse(value);
    return Number.isFinite(time) && new Date(time).toISOString() === value.replace("Z", ".000Z");
  }, "not a real UTC date and time");

/** Template path inside a generator: same rules as an output path (relative, no `..`, …). */
export const templatePathSchema = z.string().refine((path) => isValidOutputPath(path), "invalid template path");

/** Options of a generation that change what templates render, recorded in its lock. */
export const renderOptionsSchema = z.strictObject({
  /** `{{ x }}` with x undefined or null is an error naming the template, line and expression. */
  throwOnUndefined: z.boolean().optional(),
});

export type RenderOptions = z.infer<typeof renderOptionsSchema>;

export const lockSchema = z.strictObject({
  graph: z.strictObject({
    name: z.string().min(1).max(200),
    /** Graph version as the graph layer numbers it (a positive integer or an opaque id). */
    version: z.union([z.number().int().nonnegative(), z.string().min(1).max(200)]),
    hash: graphHashSchema,
  }),
  generator: z.strictObject({
    name: z.string().min(1).max(200),
    /** Template path → sha256 hex of the template source bytes. */
    templates: z.record(templatePathSchema, sha256HexSchema),
  }),
  /** sha256 hex of the canonical JSON (RFC 8785) of the generation params. */
  paramsHash: sha256HexSchema,
  engineVersion: z.string().min(1).max(200),
  buildTime: buildTimeSchema,
  /** Render options that change output; absent when every option has its default. */
  options: renderOptionsSchema.optional(),
});

export type Lock = z.infer<typeof lockSchema>;
