import type { ArtifactRecord } from "../repository/artifact-index";
import type { ContentStore } from "./content-store";

/**
 * An artifact's bytes as a stream: its range of the pack it was stored in, or, for rows written before
 * packs, the blob named by its sha256. Null when the blob is missing.
 */
export async function artifactBody(
  content: ContentStore,
  artifact: Pick<ArtifactRecord, "sha256" | "size" | "packSha256" | "packOffset">,
): Promise<ReadableStream<Uint8Array> | null> {
  if (artifact.packSha256 === null) return (await content.get(artifact.sha256))?.body ?? null;
  // R2 has no empty range: an empty artifact needs no read.
  if (artifact.size === 0) return new ReadableStream({ start: (controller) => controller.close() });
  return (await content.getRange(artifact.packSha256, artifact.packOffset ?? 0, artifact.size))?.body ?? null;
}

/** An artifact's bytes (see artifactBody). */
export async function artifactBytes(
  content: ContentStore,
  artifact: Pick<ArtifactRecord, "sha256" | "size" | "packSha256" | "packOffset">,
): Promise<Uint8Array | null> {
  const body = await artifactBody(content, artifact);
  return body === null ? null : new Uint8Array(await new Response(body).arrayBuffer());
}
