import { chmodSync, existsSync, readFileSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import type { ArtifactData } from "../durable-objects/tenant/job-service";
import { writeModeFields } from "../shared/generate/write-mode-fields";
import { applyWriteMode } from "../shared/template/frontmatter/apply-write-mode";
import { writeFileAtomically } from "./atomic-write";
import { CliError } from "./exit-codes";

export type WriteOutcome = "written" | "unchanged";

/** The absolute target of an artifact, refusing any path that leaves the output folder. */
export function targetOf(outputRoot: string, artifactPath: string): string {
  const target = resolve(outputRoot, artifactPath);
  const inside = relative(outputRoot, target);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
    throw new CliError(`artifact path ${artifactPath} leaves the output folder`, "fix the template's `to`");
  }
  return target;
}

/** What the file would hold after this artifact, and whether that differs from what it holds now. */
export function plannedContent(target: string, artifact: ArtifactData): { content: string; changed: boolean } {
  const existing = existsSync(target) ? readFileSync(target, "utf8") : null;
  let content: string;
  try {
    content = applyWriteMode(existing, artifact.content, writeModeFields(artifact));
  } catch (error) {
    throw new CliError(
      `${artifact.path} (${artifact.template.path}): ${(error as Error).message}`,
      "fix the template's write mode or the target file",
    );
  }
  return { content, changed: content !== existing };
}

/** Writes the artifact's file atomically when its content changes, then applies its chmod. */
export function writeArtifact(
  target: string,
  artifact: ArtifactData,
  planned: { content: string; changed: boolean },
): WriteOutcome {
  if (planned.changed) writeFileAtomically(target, planned.content);
  if (artifact.chmod !== undefined) chmodSync(target, Number.parseInt(artifact.chmod, 8));
  return planned.changed ? "written" : "unchanged";
}
