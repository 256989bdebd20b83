import { existsSync, readFileSync } from "node:fs";
import type { ArtifactData } from "../durable-objects/tenant/job-service";
import { utf8 } from "../shared/core/encoding";
import { sha256Hex } from "../shared/core/sha256";
import { type ActualFile, compareDrift, type DriftReason } from "../shared/drift/drift-comparison";
import { targetOf } from "./artifact-writer";

export type { DriftReason };

/** A modified file as `kgen drift` has always printed it (hashes flat, not nested). */
export interface ModifiedFile {
  path: string;
  reason: DriftReason;
  expectedSha256: string;
  actualSha256: string;
  /** Unified diff, expected against actual; absent when the file on disk is not UTF-8 text. */
  diff?: string;
  diffTruncated?: true;
}

export interface FileDrift {
  expected: number;
  matched: string[];
  modified: ModifiedFile[];
  missing: string[];
}

/**
 * Compares each artifact with its file under `outputRoot` through the shared drift check, reading
 * every artifact's file from disk. Files no artifact wrote are not looked at (the output folder may
 * hold hand-written files).
 */
export async function compareArtifacts(outputRoot: string, artifacts: readonly ArtifactData[]): Promise<FileDrift> {
  const files: ActualFile[] = [];
  for (const path of new Set(artifacts.map((artifact) => artifact.path))) {
    const target = targetOf(outputRoot, path);
    if (!existsSync(target)) continue;
    const content = new Uint8Array(readFileSync(target));
    files.push({ path, sha256: await sha256Hex(content), content });
  }
  const contents = new Map(artifacts.map((artifact) => [artifact, utf8(artifact.content)]));
  const comparison = await compareDrift(
    artifacts,
    files,
    async (artifact) => contents.get(artifact as ArtifactData) ?? utf8(""),
    { listsWholeTree: false },
  );
  return {
    expected: comparison.summary.expected,
    matched: comparison.matched,
    missing: comparison.missing,
    modified: comparison.modified.map(({ expected, actual, ...file }) => ({
      ...file,
      expectedSha256: expected.sha256,
      actualSha256: actual.sha256,
    })),
  };
}
