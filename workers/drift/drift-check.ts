import type { DriftFile, DriftReportView } from "../../shared/contracts/drift";
import { Base64Error, base64ToBytes, utf8 } from "../../shared/core/encoding";
import { sha256Hex } from "../../shared/core/sha256";
import { type ActualFile, compareDrift, type ExpectedArtifact } from "../../shared/drift/drift-comparison";
import { inScope, PathGlob } from "../../shared/drift/path-glob";
import { normalizeOutputPath, OutputPathError } from "../../shared/template/output-path";
import type { TenantRow } from "../db/schema";
import { HttpError } from "../problems/http-error";
import { ArtifactIndex, type ArtifactRecord } from "../repository/artifact-index";
import { artifactBytes } from "../storage/artifact-content";
import { ContentStore } from "../storage/content-store";
import type { StoredDriftRequest } from "./drift-report-store";

/** Artifact rows read from the index per page while collecting a job's expected files. */
const ARTIFACT_PAGE = 1_000;

function invalidFile(index: number, field: string, message: string, detail: string): HttpError {
  return new HttpError(422, "invalid-drift-file", "Invalid file in drift check", detail, {
    extensions: { errors: [{ field: `files.${index}.${field}`, message }] },
  });
}

/**
 * The request's files with their paths normalized, refusing paths that leave the output folder and
 * paths sent twice (422, before anything is stored). Contents are decoded here too, so a queued check
 * cannot fail later on bad base64.
 */
export function validateDriftFiles(files: readonly DriftFile[]): DriftFile[] {
  const seen = new Set<string>();
  return files.map((file, index) => {
    let path: string;
    try {
      path = normalizeOutputPath(file.path);
    } catch (error) {
      if (!(error instanceof OutputPathError)) throw error;
      throw invalidFile(index, "path", error.message, `files[${index}].path: ${error.message}.`);
    }
    if (seen.has(path)) {
      throw new HttpError(
        422,
        "duplicate-drift-path",
        "Path sent twice",
        `${JSON.stringify(path)} is sent more than once.`,
        {
          extensions: { errors: [{ field: `files.${index}.path`, message: "Each path once." }], path },
        },
      );
    }
    seen.add(path);
    if ("content" in file && file.encoding === "base64") decodeBase64(file.content, index);
    return { ...file, path };
  });
}

function decodeBase64(content: string, index: number): Uint8Array {
  try {
    return base64ToBytes(content);
  } catch (error) {
    if (!(error instanceof Base64Error)) throw error;
    throw invalidFile(index, "content", "Not base64.", `files[${index}].content is not base64.`);
  }
}

export function scopeGlobs(paths: readonly string[] | undefined): PathGlob[] {
  return (paths ?? []).map((pattern) => new PathGlob(pattern));
}

async function actualFile(file: DriftFile, index: number): Promise<ActualFile> {
  if (!("content" in file))
    return { path: file.path, sha256: file.sha256, ...(file.size === undefined ? {} : { size: file.size }) };
  const content = file.encoding === "base64" ? decodeBase64(file.content, index) : utf8(file.content);
  return { path: file.path, sha256: await sha256Hex(content), content };
}

/** Every artifact of a job in the scope, by path, from the artifact index. */
async function expectedArtifacts(index: ArtifactIndex, jobId: string, globs: readonly PathGlob[]) {
  const records = new Map<string, ArtifactRecord>();
  let after: string | undefined;
  while (true) {
    const page = await index.list(jobId, ARTIFACT_PAGE, after);
    for (const record of page.slice(0, ARTIFACT_PAGE)) {
      if (inScope(globs, record.path)) records.set(record.path, record);
    }
    if (page.length <= ARTIFACT_PAGE) return records;
    after = page[ARTIFACT_PAGE - 1]?.path;
  }
}

/**
 * Runs a drift check of a validated request against the job's artifacts: expected files come only
 * from the ArtifactIndex, their bytes only when the comparison asks (blocks, and changed files sent
 * with content). Files outside the scope globs are left out on both sides.
 */
export async function runDriftCheck(
  env: Env,
  tenant: Pick<TenantRow, "id" | "jurisdiction">,
  reportId: string,
  request: StoredDriftRequest,
  createdAt: string,
): Promise<DriftReportView> {
  const globs = scopeGlobs(request.paths);
  const records = await expectedArtifacts(new ArtifactIndex(env, tenant), request.job, globs);
  const expected: ExpectedArtifact[] = [...records.values()].map((record) => ({
    path: record.path,
    mode: record.mode,
    sha256: record.sha256,
    size: record.size,
  }));
  const files: ActualFile[] = [];
  for (const [index, file] of request.files.entries()) {
    if (inScope(globs, file.path)) files.push(await actualFile(file, index));
  }
  const content = new ContentStore(env.ARTIFACTS, tenant.id);
  const comparison = await compareDrift(
    expected,
    files,
    async (artifact) => {
      const bytes = await artifactBytes(content, records.get(artifact.path) as ArtifactRecord);
      if (bytes === null) throw new Error(`artifact content ${artifact.sha256} of ${artifact.path} is missing`);
      return bytes;
    },
    { listsWholeTree: true },
  );
  return {
    id: reportId,
    job: request.job,
    state: "done",
    status: comparison.status,
    exitCode: comparison.status === "clean" ? 0 : 3,
    summary: comparison.summary,
    modified: comparison.modified,
    missing: comparison.missing,
    unexpected: comparison.unexpected,
    createdAt,
  };
}
