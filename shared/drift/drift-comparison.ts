import { createTwoFilesPatch } from "diff";
import { sha256Hex } from "../core/sha256";
import type { PlannedArtifact } from "../generate/template-unit";
import { writeModeFields } from "../generate/write-mode-fields";
import { applyWriteMode } from "../template/frontmatter/apply-write-mode";
import { WriteModeError } from "../template/frontmatter/frontmatter-error";

/**
 * Why a file drifted:
 * - `content`: its bytes differ (for a block: the block is not in the file as rendered);
 * - `line-endings`: it differs only in line endings or final newlines;
 * - `marker-missing`: (inject) no line holds the marker any more, so the block has nowhere to go;
 * - `unverifiable-block`: a block-mode file was sent as a hash only, which cannot show that the
 *   block is in it (send its content).
 */
export type DriftReason = "content" | "line-endings" | "marker-missing" | "unverifiable-block";

/** What generate wrote: the artifact's hash and size, its write mode and, where known, where its block goes. */
export interface ExpectedArtifact extends Pick<PlannedArtifact, "path" | "inject" | "lineAt"> {
  mode: PlannedArtifact["mode"] | (string & {});
  sha256: string;
  size: number;
}

/** A file of the tree being checked: its hash, and its bytes when the caller sent them. */
export interface ActualFile {
  path: string;
  sha256: string;
  size?: number;
  content?: Uint8Array;
}

export interface FileVersion {
  sha256: string;
  /** Absent for a file sent as a hash without its size. */
  size?: number;
}

export interface ModifiedFile {
  path: string;
  reason: DriftReason;
  /** What generate would make the file (for a block whose placement is unknown: the block itself). */
  expected: FileVersion;
  actual: FileVersion;
  /** Unified diff, expected against actual, for text when both contents are known. */
  diff?: string;
  /** Set when the diff was cut at maxDiffBytes or (diff absent) was too large to compute. */
  diffTruncated?: true;
}

export interface DriftSummary {
  expected: number;
  matched: number;
  modified: number;
  missing: number;
  unexpected: number;
}

export interface DriftComparison {
  status: "clean" | "drift";
  summary: DriftSummary;
  matched: string[];
  modified: ModifiedFile[];
  missing: string[];
  /** Files of the tree no artifact wrote (only when the caller lists its whole tree). */
  unexpected: string[];
}

export interface DriftLimits {
  /** Longest diff kept per file, in UTF-16 code units; longer ones are cut at a line break. */
  maxDiffChars: number;
  /** Most line edits a diff may need before it is given up (bounds the diff's time). */
  maxDiffEdits: number;
}

export const DEFAULT_DRIFT_LIMITS: DriftLimits = { maxDiffChars: 64 * 1024, maxDiffEdits: 2_000 };

/** The artifact's rendered bytes; only called when a decision or a diff needs them. */
export type ExpectedContent = (artifact: ExpectedArtifact) => Promise<Uint8Array>;

const BLOCK_MODES = new Set(["inject", "append", "prepend", "lineAt"]);

function utf8Text(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Line endings as LF and no final line breaks: what two texts share when only those differ. */
function withoutLineEndingDifferences(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(/\n+$/, "");
}

/**
 * Whether the block occurs as whole lines ending exactly as rendered. Generate's own idempotence test
 * also accepts a CRLF after a block rendered with LF; drift does not let a line-ending change pass.
 */
export function blockLinesIntact(rendered: string, text: string): boolean {
  const ending = rendered.endsWith("\r\n") ? "\r\n" : "\n";
  const block = rendered.endsWith(ending) ? rendered.slice(0, -ending.length) : rendered;
  if (block === "") return true;
  for (let index = text.indexOf(block); index !== -1; index = text.indexOf(block, index + 1)) {
    const startsLine = index === 0 || text[index - 1] === "\n";
    const end = index + block.length;
    if (startsLine && (end === text.length || text.startsWith(ending, end))) return true;
  }
  return false;
}

/** Where a block goes is known for append and prepend always, for inject and lineAt only with its field. */
function placementKnown(artifact: ExpectedArtifact): boolean {
  if (artifact.mode === "inject") return artifact.inject !== undefined;
  if (artifact.mode === "lineAt") return artifact.lineAt !== undefined;
  return true;
}

function boundedDiff(path: string, expected: string, actual: string, limits: DriftLimits) {
  const patch = createTwoFilesPatch(`expected/${path}`, `actual/${path}`, expected, actual, undefined, undefined, {
    maxEditLength: limits.maxDiffEdits,
  });
  if (patch === undefined) return { diffTruncated: true as const };
  if (patch.length <= limits.maxDiffChars) return { diff: patch };
  const cut = patch.lastIndexOf("\n", limits.maxDiffChars);
  return { diff: patch.slice(0, cut === -1 ? limits.maxDiffChars : cut + 1), diffTruncated: true as const };
}

interface Verdict {
  reason: DriftReason;
  /** What generate would write, when known, for the diff and the expected hash. */
  expectedText: string | null;
}

/** The block-mode verdict on a file's text: null when the block is there as rendered. */
function blockVerdict(artifact: ExpectedArtifact, block: string, actual: string): Verdict | null {
  if (!placementKnown(artifact)) {
    if (blockLinesIntact(block, actual)) return null;
    return { reason: blockReason(block, actual), expectedText: null };
  }
  let planned: string;
  try {
    planned = applyWriteMode(actual, block, writeModeFields(artifact as Pick<PlannedArtifact, "mode">));
  } catch (error) {
    if (!(error instanceof WriteModeError)) throw error;
    return { reason: artifact.mode === "inject" ? "marker-missing" : "content", expectedText: block };
  }
  if (planned === actual)
    return blockLinesIntact(block, actual) ? null : { reason: "line-endings", expectedText: planned };
  return { reason: blockReason(block, actual), expectedText: planned };
}

/** A block missing as rendered is there but for line endings (as whole lines), or its content changed. */
function blockReason(block: string, actual: string): DriftReason {
  const lines = withoutLineEndingDifferences(block);
  if (lines === "") return "content";
  return blockLinesIntact(`${lines}\n`, actual.replace(/\r\n/g, "\n")) ? "line-endings" : "content";
}

async function versionOf(text: string): Promise<FileVersion> {
  const encoded = new TextEncoder().encode(text);
  return { sha256: await sha256Hex(encoded), size: encoded.byteLength };
}

/**
 * Compares what generate wrote with a tree of files: THE drift check, for the CLI (files from disk)
 * and the platform (files from a request). A file drifts exactly when generate would change it: a
 * whole-file artifact must match byte for byte; a block (inject, append, prepend, lineAt) must occur
 * in the file as whole lines ending as rendered, so edits outside the block are not drift and edits
 * inside are. Contents are read only when needed: a whole-file artifact whose hash matches, or one
 * whose file came without content, needs none.
 *
 * `actual` must hold each path once; `listsWholeTree` says whether files without an artifact are
 * `unexpected` (a tree listed in full) or simply not looked at.
 */
export async function compareDrift(
  expected: readonly ExpectedArtifact[],
  actual: readonly ActualFile[],
  expectedContent: ExpectedContent,
  options: { listsWholeTree: boolean; limits?: DriftLimits },
): Promise<DriftComparison> {
  const limits = options.limits ?? DEFAULT_DRIFT_LIMITS;
  const files = new Map(actual.map((file) => [file.path, file]));
  const matched: string[] = [];
  const modified: ModifiedFile[] = [];
  const missing: string[] = [];
  const expectedPaths = new Set<string>();
  for (const artifact of expected) {
    expectedPaths.add(artifact.path);
    const file = files.get(artifact.path);
    if (file === undefined) {
      missing.push(artifact.path);
      continue;
    }
    const change = await compareFile(artifact, file, expectedContent, limits);
    if (change === null) matched.push(artifact.path);
    else modified.push(change);
  }
  const unexpected = options.listsWholeTree
    ? actual
        .map((file) => file.path)
        .filter((path) => !expectedPaths.has(path))
        .sort()
    : [];
  const clean = modified.length === 0 && missing.length === 0 && unexpected.length === 0;
  return {
    status: clean ? "clean" : "drift",
    summary: {
      expected: expected.length,
      matched: matched.length,
      modified: modified.length,
      missing: missing.length,
      unexpected: unexpected.length,
    },
    matched,
    modified,
    missing,
    unexpected,
  };
}

async function compareFile(
  artifact: ExpectedArtifact,
  file: ActualFile,
  expectedContent: ExpectedContent,
  limits: DriftLimits,
): Promise<ModifiedFile | null> {
  const actualVersion: FileVersion =
    file.content !== undefined
      ? { sha256: file.sha256, size: file.content.byteLength }
      : { sha256: file.sha256, ...(file.size === undefined ? {} : { size: file.size }) };
  const artifactVersion: FileVersion = { sha256: artifact.sha256, size: artifact.size };
  const isBlock = BLOCK_MODES.has(artifact.mode);
  if (!isBlock && file.sha256 === artifact.sha256) return null;
  if (file.content === undefined) {
    // A file that is exactly the rendered block holds it; any other hash cannot say where the block is.
    if (isBlock && file.sha256 === artifact.sha256) return null;
    return {
      path: artifact.path,
      reason: isBlock ? "unverifiable-block" : "content",
      expected: artifactVersion,
      actual: actualVersion,
    };
  }
  const expectedBytes = await expectedContent(artifact);
  const expectedText = utf8Text(expectedBytes);
  const actualText = utf8Text(file.content);
  if (expectedText === null || actualText === null) {
    // Binary: sizes and hashes only (a block cannot be looked for as lines in a file that is not text).
    return { path: artifact.path, reason: "content", expected: artifactVersion, actual: actualVersion };
  }
  let verdict: Verdict | null;
  if (isBlock) verdict = blockVerdict(artifact, expectedText, actualText);
  else {
    const sameButEndings = withoutLineEndingDifferences(expectedText) === withoutLineEndingDifferences(actualText);
    verdict = { reason: sameButEndings ? "line-endings" : "content", expectedText };
  }
  if (verdict === null) return null;
  return {
    path: artifact.path,
    reason: verdict.reason,
    expected: isBlock && verdict.expectedText !== null ? await versionOf(verdict.expectedText) : artifactVersion,
    actual: actualVersion,
    ...(verdict.expectedText === null ? {} : boundedDiff(artifact.path, verdict.expectedText, actualText, limits)),
  };
}
