import { type DriftManifest, driftManifestSchema } from "../../shared/contracts/monitors";
import { type DestinationPolicy, UnsafeDestinationError } from "../outbound/destination-guard";
import { guardedFetch, OutboundTimeoutError, ResponseTooLargeError } from "../outbound/guarded-fetch";

export const MANIFEST_TIMEOUT_MS = 5_000;
export const MAX_MANIFEST_BYTES = 5 * 1024 * 1024;
const MAX_MANIFEST_REDIRECTS = 3;

/** A manifest that could not be used; the run fails with this reason (retrying would fetch the same). */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

/**
 * Fetches a monitor's manifest: HTTPS to public addresses only (every redirect hop checked again), a 5 s
 * deadline for the whole exchange, at most 5 MiB, and a body that must be `{files: [{path, sha256}]}`.
 */
export async function fetchManifest(
  url: string,
  headers: Record<string, string>,
  policy: DestinationPolicy,
): Promise<DriftManifest> {
  let response: Awaited<ReturnType<typeof guardedFetch>>;
  try {
    response = await guardedFetch(
      url,
      { method: "GET", headers: { accept: "application/json", ...headers } },
      {
        policy,
        timeoutMs: MANIFEST_TIMEOUT_MS,
        maxResponseBytes: MAX_MANIFEST_BYTES,
        maxRedirects: MAX_MANIFEST_REDIRECTS,
      },
    );
  } catch (error) {
    if (error instanceof UnsafeDestinationError) throw new ManifestError(`unsafe manifest URL: ${error.message}`);
    if (error instanceof OutboundTimeoutError) throw new ManifestError(`manifest fetch timed out: ${error.message}`);
    if (error instanceof ResponseTooLargeError) throw new ManifestError(`manifest too large: ${error.message}`);
    throw new ManifestError(`manifest fetch failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (response.status !== 200) throw new ManifestError(`manifest URL answered ${response.status}`);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(response.body));
  } catch {
    throw new ManifestError("the manifest is not UTF-8 JSON");
  }
  const parsed = driftManifestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestError(
      `the manifest is not {files: [{path, sha256}]}: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}`,
    );
  }
  return parsed.data;
}
