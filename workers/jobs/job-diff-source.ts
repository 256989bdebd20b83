import { sha256Hex } from "../../shared/core/sha256";
import type { DiffPageOptions, JobDiffSource, PatchOptions } from "../../shared/generate/job-diff";
import type { TenantRow } from "../db/schema";
import { ArtifactIndex, type ArtifactRecord } from "../repository/artifact-index";
import { artifactBytes } from "../storage/artifact-content";
import { ContentStore } from "../storage/content-store";

/** Rows fetched per listing query while two jobs are compared: the window of either job held at once. */
const LISTING_PAGE = 500;

/** Bounds of one JSON page of `GET /v1/jobs/{a}/diff/{b}` (besides its `limit`). */
export const DIFF_PAGE_BOUNDS: Omit<DiffPageOptions, "after" | "limit"> = {
  maxFileDiffBytes: 64 * 1024,
  maxFileBytes: 4 * 1024 * 1024,
  maxReadBytes: 16 * 1024 * 1024,
  lineDiffWork: 10_000_000,
};

/** Bounds of the whole patch (`Accept: text/x-diff`). */
export const PATCH_BOUNDS: PatchOptions = {
  maxPatchBytes: 8 * 1024 * 1024,
  maxFileBytes: 4 * 1024 * 1024,
  maxReadBytes: 64 * 1024 * 1024,
  lineDiffWork: 10_000_000,
};

/** A job's artifacts by path, one listing query per LISTING_PAGE rows, as the comparison pulls them. */
async function* artifactsByPath(index: ArtifactIndex, jobId: string): AsyncGenerator<ArtifactRecord> {
  let after: string | undefined;
  for (;;) {
    const rows = await index.list(jobId, LISTING_PAGE, after);
    const page = rows.slice(0, LISTING_PAGE);
    yield* page;
    const last = page.at(-1);
    if (rows.length <= LISTING_PAGE || !last) return;
    after = last.path;
  }
}

/** The two jobs' listings and a reader of artifact bytes that checks them against their sha256. */
export function jobDiffSource(
  env: Env,
  tenant: Pick<TenantRow, "id" | "jurisdiction">,
  jobA: string,
  jobB: string,
): JobDiffSource<ArtifactRecord> {
  const index = new ArtifactIndex(env, tenant);
  const content = new ContentStore(env.ARTIFACTS, tenant.id);
  return {
    a: artifactsByPath(index, jobA),
    b: artifactsByPath(index, jobB),
    read: async (artifact) => {
      const bytes = await artifactBytes(content, artifact);
      if (bytes === null) throw new Error(`artifact blob ${artifact.sha256} missing`);
      if (bytes.length !== artifact.size || (await sha256Hex(bytes)) !== artifact.sha256) {
        throw new Error(`artifact ${artifact.id} does not match its sha256`);
      }
      return bytes;
    },
  };
}
