import { unzipSync } from "fflate";
import { sha256Hex } from "../../shared/core/sha256";
import { type DsseEnvelope, type JsonWebKeySet, verifyEnvelope } from "../../shared/generate/attestation";
import { BUNDLE_LOCK_ENTRY, BUNDLE_MANIFEST_ENTRY, type BundleManifestEntry } from "../../shared/generate/bundle";
import { type Lock, lockHash, parseLock } from "../../shared/generate/lock";
import { CliError } from "../exit-codes";

/** One artifact of a job bundle whose bytes and attestation were checked. */
export interface VerifiedArtifact {
  path: string;
  bytes: Uint8Array;
  envelope: DsseEnvelope;
}

export interface VerifiedBundle {
  lock: Lock;
  lockHash: string;
  artifacts: VerifiedArtifact[];
}

function entry(files: Record<string, Uint8Array>, name: string, jobId: string): Uint8Array {
  const bytes = files[name];
  if (!bytes)
    throw new CliError(`the bundle of job ${jobId} has no ${name}`, "pull it again; report it if it persists");
  return bytes;
}

function jsonEntry(files: Record<string, Uint8Array>, name: string, jobId: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(entry(files, name, jobId)));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${name} in the bundle of job ${jobId} is not JSON`, "pull it again");
  }
}

/**
 * Opens a job's bundle and checks all of it before anything is written: the lock hashes to the job's
 * lock hash, every artifact's bytes to its manifest sha256, and every attestation verifies with the
 * tenant's published keys (not the bundle's own jwks.json) and names the artifact's path and digest.
 * Only whole-file artifacts can be pulled; patches need the file they patch (use `kgen generate`).
 */
export async function verifyJobBundle(
  zip: Uint8Array,
  job: { id: string; lockHash: string },
  trustedKeys: JsonWebKeySet,
): Promise<VerifiedBundle> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (error) {
    throw new CliError(
      `the bundle of job ${job.id} is not a readable zip (${(error as Error).message})`,
      "pull it again",
    );
  }
  let lock: Lock;
  try {
    lock = parseLock(jsonEntry(files, BUNDLE_LOCK_ENTRY, job.id));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(
      `the lock in the bundle of job ${job.id} is invalid: ${(error as Error).message}`,
      "pull it again",
    );
  }
  const hashOfLock = await lockHash(lock);
  if (hashOfLock !== job.lockHash) {
    throw new CliError(
      `the bundle's lock hashes to ${hashOfLock}, not job ${job.id}'s ${job.lockHash}`,
      "pull it again",
    );
  }
  const manifest = jsonEntry(files, BUNDLE_MANIFEST_ENTRY, job.id) as { artifacts?: BundleManifestEntry[] };
  const rows = Array.isArray(manifest.artifacts) ? manifest.artifacts : [];
  const patches = rows.filter((row) => row.mode !== "write");
  if (patches.length > 0) {
    throw new CliError(
      `job ${job.id} has ${patches.length} patch artifact(s) (${patches[0]?.mode} into ${patches[0]?.path}); pull writes whole files only`,
      "run `kgen generate` offline with the pulled templates to apply patches",
    );
  }
  const artifacts: VerifiedArtifact[] = [];
  const failures: string[] = [];
  for (const row of rows) {
    const bytes = entry(files, row.entry, job.id);
    const sha256 = await sha256Hex(bytes);
    if (sha256 !== row.sha256) {
      failures.push(`${row.path}: content does not match its sha256`);
      continue;
    }
    if (row.attestation === null) {
      failures.push(`${row.path}: no attestation`);
      continue;
    }
    const envelope = jsonEntry(files, row.attestation, job.id) as DsseEnvelope;
    const verified = await verifyEnvelope(envelope, trustedKeys, { expectedSha256: sha256, expectedPath: row.path });
    const predicateLock = (verified.statement?.predicate as { lockHash?: unknown } | undefined)?.lockHash;
    if (!verified.valid) failures.push(`${row.path}: ${verified.reasons.join(", ")}`);
    else if (predicateLock !== job.lockHash) failures.push(`${row.path}: attested for another lock`);
    else artifacts.push({ path: row.path, bytes, envelope });
  }
  if (failures.length > 0) {
    throw new CliError(
      `${failures.length} artifact(s) of job ${job.id} failed verification, nothing was written: ${failures.slice(0, 3).join("; ")}`,
      "do not trust this bundle; check the tenant's signing keys (GET /v1/signing-keys)",
      undefined,
      { failures },
    );
  }
  return { lock, lockHash: hashOfLock, artifacts };
}
