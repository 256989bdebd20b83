import type { Frontmatter } from "../template/frontmatter/parse-frontmatter";
import type { PlannedArtifact } from "./template-unit";

/** The frontmatter fields applyWriteMode reads, rebuilt from a planned artifact's write mode. */
export function writeModeFields(artifact: Pick<PlannedArtifact, "mode" | "inject" | "lineAt">): Frontmatter {
  const fields: Record<string, unknown> = {};
  if (artifact.mode === "inject" && artifact.inject) {
    fields.inject = true;
    fields[artifact.inject.position] = artifact.inject.marker;
  } else if (artifact.mode === "append") fields.append = true;
  else if (artifact.mode === "prepend") fields.prepend = true;
  else if (artifact.mode === "lineAt") fields.lineAt = artifact.lineAt;
  return fields as Frontmatter;
}
