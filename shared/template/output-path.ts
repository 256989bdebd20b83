/**
 * Output paths of generated artifacts are relative POSIX paths below the output root. Anything
 * that could escape the root or mean different files on different systems is refused with an
 * OutputPathError whose `reason` is a stable code (the HTTP layer maps it to 422).
 *
 * Accepted paths are normalized: Unicode NFC (so macOS and Linux agree on one name) and `.`
 * segments removed (`./src/./a.ts` → `src/a.ts`). Nothing else is rewritten: a path is either
 * already safe or it is refused.
 */
export type OutputPathErrorReason =
  | "not-a-string"
  | "empty"
  | "absolute"
  | "drive-letter"
  | "backslash"
  | "dot-dot"
  | "empty-segment"
  | "control-character"
  | "invalid-unicode"
  | "segment-too-long"
  | "too-long"
  | "too-deep";

const REASON_TEXT: Record<OutputPathErrorReason, string> = {
  "not-a-string": "the output path is not a string",
  empty: "the output path is empty",
  absolute: "the output path is absolute",
  "drive-letter": "the output path starts with a drive letter",
  backslash: "the output path contains a backslash",
  "dot-dot": "the output path contains a '..' segment",
  "empty-segment": "the output path contains an empty segment (a doubled or trailing '/')",
  "control-character": "the output path contains a NUL or control character",
  "invalid-unicode": "the output path contains a lone UTF-16 surrogate",
  "segment-too-long": "a segment of the output path is longer than the limit",
  "too-long": "the output path is longer than the limit",
  "too-deep": "the output path has more segments than the limit",
};

export class OutputPathError extends Error {
  readonly reason: OutputPathErrorReason;
  /** The path as given (JSON-quoted in the message, so control characters stay visible). */
  readonly path: string;

  constructor(reason: OutputPathErrorReason, path: string) {
    super(`${REASON_TEXT[reason]}: ${JSON.stringify(path)}`);
    this.name = "OutputPathError";
    this.reason = reason;
    this.path = path;
  }
}

export interface OutputPathLimits {
  /** Maximum length of the normalized path in UTF-8 bytes. Default 1024. */
  maxBytes?: number;
  /** Maximum length of one segment in UTF-8 bytes (most file systems allow 255). Default 255. */
  maxSegmentBytes?: number;
  /** Maximum number of segments. Default 64. */
  maxSegments?: number;
}

export const DEFAULT_OUTPUT_PATH_LIMITS: Required<OutputPathLimits> = {
  maxBytes: 1024,
  maxSegmentBytes: 255,
  maxSegments: 64,
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const DRIVE_LETTER = /^[A-Za-z]:/;

/** C0 controls (NUL included), DEL and C1 controls. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Validates an output path and returns its normalized form, or throws OutputPathError. */
export function normalizeOutputPath(path: unknown, limits: OutputPathLimits = {}): string {
  const { maxBytes, maxSegmentBytes, maxSegments } = { ...DEFAULT_OUTPUT_PATH_LIMITS, ...limits };
  if (typeof path !== "string") throw new OutputPathError("not-a-string", String(path));
  if (path.length === 0) throw new OutputPathError("empty", path);
  if (hasControlCharacter(path)) throw new OutputPathError("control-character", path);
  if (LONE_SURROGATE.test(path)) throw new OutputPathError("invalid-unicode", path);
  if (path.includes("\\")) throw new OutputPathError("backslash", path);
  if (path.startsWith("/")) throw new OutputPathError("absolute", path);
  if (DRIVE_LETTER.test(path)) throw new OutputPathError("drive-letter", path);
  const segments: string[] = [];
  for (const segment of path.normalize("NFC").split("/")) {
    if (segment === "..") throw new OutputPathError("dot-dot", path);
    if (segment === "") throw new OutputPathError("empty-segment", path);
    if (segment === ".") continue;
    if (utf8Length(segment) > maxSegmentBytes) throw new OutputPathError("segment-too-long", path);
    segments.push(segment);
  }
  // Only "." segments: the path names the root itself, not a file.
  if (segments.length === 0) throw new OutputPathError("empty", path);
  if (segments.length > maxSegments) throw new OutputPathError("too-deep", path);
  const normalized = segments.join("/");
  if (utf8Length(normalized) > maxBytes) throw new OutputPathError("too-long", path);
  return normalized;
}

/** True when normalizeOutputPath would accept the path. */
export function isValidOutputPath(path: unknown, limits?: OutputPathLimits): boolean {
  try {
    normalizeOutputPath(path, limits);
    return true;
  } catch (error) {
    if (error instanceof OutputPathError) return false;
    throw error;
  }
}
