import { existsSync, readFileSync } from "node:fs";
import { createTwoFilesPatch } from "diff";
import type { ArtifactData } from "../durable-objects/tenant/job-service";
import { sha256Hex } from "../shared/core/sha256";
import { plannedContent, targetOf } from "./artifact-writer";
import { CliError } from "./exit-codes";

/**
 * Why a file drifted: its content differs, it differs only in line endings or the final newline,
 * or (inject) the line holding the marker is gone so the block has nowhere to go.
 */
export type DriftReason = "content" | "line-endings" | "marker-missing";

export interface ModifiedFile {
  path: string;
  reason: DriftReason;
  expectedSha256: string;
  actualSha256: string;
  /** Unified diff, expected against actual; absent when the file on disk is not UTF-8 text. */
  diff?: string;
}

export interface FileDrift {
  expected: number;
  matched: string[];
  modified: ModifiedFile[];
  missing: string[];
}

/** Line endings as LF and no final line breaks: what two texts share when only those differ. */
function withoutLineEndingDifferences(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(/\n+$/, "");
}

function utf8Text(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Compares each artifact with its file under `outputRoot`, the way `kgen generate` would write it.
 * A file drifts exactly when generate would change it: a whole-file artifact must match byte for
 * byte; a block (inject, append, prepend, lineAt) must occur in the file as whole lines, which is
 * generate's own idempotence test, so edits outside the block are not drift and edits inside are.
 * The block's position is not checked beyond that; its line endings are (see blockLinesIntact).
 */
export async function compareArtifacts(outputRoot: string, artifacts: readonly ArtifactData[]): Promise<FileDrift> {
  const drift: FileDrift = { expected: artifacts.length, matched: [], modified: [], missing: [] };
  for (const artifact of artifacts) {
    const target = targetOf(outputRoot, artifact.path);
    if (!existsSync(target)) {
      drift.missing.push(artifact.path);
      continue;
    }
    const actualBytes = readFileSync(target);
    const actual = utf8Text(actualBytes);
    let expected: string;
    let reason: DriftReason | null;
    try {
      const planned = plannedContent(target, artifact);
      expected = planned.content;
      reason = planned.changed
        ? "content"
        : artifact.mode !== "write" && !blockLinesIntact(artifact.content, expected)
          ? "line-endings"
          : null;
    } catch (error) {
      if (!(error instanceof CliError) || artifact.mode !== "inject") throw error;
      expected = artifact.content;
      reason = "marker-missing";
    }
    if (reason === null) {
      drift.matched.push(artifact.path);
      continue;
    }
    if (reason === "content" && actual !== null && sameButLineEndings(artifact, expected, actual)) {
      reason = "line-endings";
    }
    drift.modified.push({
      path: artifact.path,
      reason,
      expectedSha256: await sha256Hex(expected),
      actualSha256: await sha256Hex(actualBytes),
      ...(actual === null
        ? {}
        : { diff: createTwoFilesPatch(`expected/${artifact.path}`, `actual/${artifact.path}`, expected, actual) }),
    });
  }
  return drift;
}

/**
 * Whether the block occurs as whole lines ending exactly as rendered. Generate's own test also
 * accepts a CRLF after a block rendered with LF; drift does not let a line-ending change pass.
 */
function blockLinesIntact(rendered: string, text: string): boolean {
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

/** Whether the file holds what generate would write, once line endings and final newlines are set aside. */
function sameButLineEndings(artifact: ArtifactData, expected: string, actual: string): boolean {
  if (artifact.mode === "write") return withoutLineEndingDifferences(expected) === withoutLineEndingDifferences(actual);
  const block = withoutLineEndingDifferences(artifact.content);
  return block !== "" && withoutLineEndingDifferences(actual).includes(block);
}
