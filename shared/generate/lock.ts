import { type Lock, lockSchema, type RenderOptions } from "../contracts/lock";
import { canonicalJson, canonicalSha256 } from "../core/canonical-json";
import { sha256Hex } from "../core/sha256";
import { normalizeOutputPath } from "../template/output-path";
import { SUPPORTED_ENGINE_VERSIONS } from "../version";

export type { Lock } from "../contracts/lock";
export { lockSchema } from "../contracts/lock";

/** Thrown when a lock (given or computed) does not satisfy lockSchema, or contradicts its inputs. */
export class LockError extends Error {
  readonly issues: string[];

  constructor(message: string, issues: string[] = []) {
    super(issues.length > 0 ? `${message}: ${issues.join("; ")}` : message);
    this.name = "LockError";
    this.issues = issues;
  }
}

export interface LockInput {
  graph: { name: string; version: number | string; hash: string };
  generator: {
    name: string;
    /** Either a path → hash record or a list of templates; duplicate paths are an error. */
    templates: Record<string, string> | ReadonlyArray<{ path: string; hash: string }>;
  };
  /** Job params; must be canonical-JSON-able. Absent params hash as `{}`. */
  params?: unknown;
  engineVersion: string;
  /** Fixed build time, usually from deriveBuildTime(); never the clock. */
  buildTime: string;
  /** Render options; only those set to a non-default value are recorded. */
  options?: RenderOptions;
}

/** sha256 hex of the canonical JSON of params; `undefined` counts as `{}`. */
export function paramsHash(params: unknown): Promise<string> {
  return canonicalSha256(params === undefined ? {} : params);
}

/**
 * Builds and validates the lock. Template paths are normalized as output paths and the record
 * is rebuilt in sorted key order (canonicalJson sorts anyway; this keeps JSON.stringify stable too).
 */
export async function computeLock(input: LockInput): Promise<Lock> {
  const entries = Array.isArray(input.generator.templates)
    ? (input.generator.templates as ReadonlyArray<{ path: string; hash: string }>).map(
        (template) => [template.path, template.hash] as const,
      )
    : Object.entries(input.generator.templates as Record<string, string>);
  const templates: Record<string, string> = {};
  const normalizedEntries = entries.map(([path, hash]) => [normalizeOutputPath(path), hash] as const);
  normalizedEntries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [path, hash] of normalizedEntries) {
    if (Object.hasOwn(templates, path)) throw new LockError("duplicate template path", [path]);
    templates[path] = hash;
  }
  return parseLock({
    graph: { name: input.graph.name, version: input.graph.version, hash: input.graph.hash },
    generator: { name: input.generator.name, templates },
    paramsHash: await paramsHash(input.params),
    engineVersion: input.engineVersion,
    buildTime: input.buildTime,
    // Absent rather than all-default, so a lock without options hashes as locks always did.
    ...(input.options?.throwOnUndefined === true ? { options: { throwOnUndefined: true } } : {}),
  });
}

/** Validates an untrusted lock (e.g. `POST /v1/jobs {lock}`) and returns it typed. */
export function parseLock(value: unknown): Lock {
  const result = lockSchema.safeParse(value);
  if (!result.success) {
    throw new LockError(
      "invalid lock",
      result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
    );
  }
  return result.data;
}

/** Canonical JSON text of the lock: the bytes written to `kgen.lock.json` and hashed by lockHash. */
export function serializeLock(lock: Lock): string {
  return canonicalJson(lock);
}

/** sha256 hex of the canonical JSON of the lock: identifies one reproducible job. */
export function lockHash(lock: Lock): Promise<string> {
  return sha256Hex(serializeLock(lock));
}

/** Throws LockError unless params hash to lock.paramsHash (regeneration from a lock needs the params). */
export async function assertParamsMatchLock(lock: Lock, params: unknown): Promise<void> {
  const actual = await paramsHash(params);
  if (actual !== lock.paramsHash) {
    throw new LockError("params do not match the lock", [`paramsHash ${actual} != ${lock.paramsHash}`]);
  }
}

/** Throws LockError unless this engine can run the lock's engine version (see SUPPORTED_ENGINE_VERSIONS). */
export function assertEngineVersionSupported(lock: Lock): void {
  if (!SUPPORTED_ENGINE_VERSIONS.includes(lock.engineVersion)) {
    throw new LockError("the platform cannot run the lock's engine version", [
      `engineVersion ${JSON.stringify(lock.engineVersion)} is not one of ${SUPPORTED_ENGINE_VERSIONS.join(", ")}`,
    ]);
  }
}

export interface BuildTimeSource {
  /** SOURCE_DATE_EPOCH: seconds since the Unix epoch, as a number or decimal string. Wins when given. */
  sourceDateEpoch?: number | string;
  /** Creation time of the pinned graph version (ISO 8601 with offset, Date or epoch milliseconds). */
  graphVersionCreatedAt?: string | number | Date;
}

/**
 * The build-time rule (SOURCE_DATE_EPOCH semantics, never the clock):
 * 1. an explicit SOURCE_DATE_EPOCH (integer seconds) if the caller gives one;
 * 2. otherwise the creation time of the pinned graph version, which is immutable once the
 *    version exists, so every generation from the same version gets the same build time
 *    (ISO 8601 with an offset, SQLite's UTC `YYYY-MM-DD HH:MM:SS`, a Date or epoch ms);
 * truncated to whole seconds and written as `YYYY-MM-DDTHH:MM:SSZ`. Regeneration from a lock
 * reuses the lock's buildTime rather than deriving it again.
 */
const SQLITE_DATETIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)$/;

export function deriveBuildTime(source: BuildTimeSource): string {
  let millis: number;
  if (source.sourceDateEpoch !== undefined) {
    const text = String(source.sourceDateEpoch).trim();
    if (!/^\d+$/.test(text)) throw new LockError("SOURCE_DATE_EPOCH must be a non-negative integer", [text]);
    millis = Number(text) * 1000;
  } else if (source.graphVersionCreatedAt !== undefined) {
    const created = source.graphVersionCreatedAt;
    if (created instanceof Date) millis = created.getTime();
    else if (typeof created === "number") millis = created;
    else {
      const text = created.trim();
      const sqlite = SQLITE_DATETIME.exec(text);
      if (sqlite) {
        // SQLite/D1 CURRENT_TIMESTAMP and datetime() spell UTC without an offset.
        millis = Date.parse(`${sqlite[1]}T${sqlite[2]}Z`);
      } else if (/(?:Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
        millis = Date.parse(text);
      } else {
        // Without an offset Date.parse would read local time, which differs between machines.
        throw new LockError("graph version creation time needs a UTC offset", [created]);
      }
    }
  } else {
    throw new LockError("no build time source: give sourceDateEpoch or graphVersionCreatedAt");
  }
  // The canonical spelling has a four-digit year: 1970-01-01 .. 9999-12-31.
  if (!Number.isFinite(millis) || millis < 0 || millis > 253402300799999) {
    throw new LockError("build time out of range", [String(source.sourceDateEpoch ?? source.graphVersionCreatedAt)]);
  }
  const seconds = Math.floor(millis / 1000) * 1000;
  const iso = new Date(seconds).toISOString();
  return `${iso.slice(0, 19)}Z`;
}
