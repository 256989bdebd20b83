import type { RenderedBatch } from "../../durable-objects/tenant/job-service";
import { canonicalJson } from "../../shared/core/canonical-json";
import { concatBytes, utf8 } from "../../shared/core/encoding";
import { sha256Hex } from "../../shared/core/sha256";
import { activeSigningKey, type Signer, unlockSigningKey } from "../../shared/crypto/tenant-keys";
import { attestArtifact } from "../../shared/generate/attestation";
import { provenanceOf } from "../../shared/generate/generate";
import type { Lock } from "../../shared/generate/lock";
import { masterSecret } from "../auth/config";
import { database } from "../db/client";
import type { TenantRow } from "../db/schema";
import { ArtifactIndex, type ArtifactRecord, type ContentLocation } from "../repository/artifact-index";
import type { JobProgress } from "../repository/jobs";
import { SigningKeyRing } from "../repository/signing-keys";
import { ContentStore } from "../storage/content-store";

/** Artifact ids derive from (job, path): a redelivered batch writes the same rows, never duplicates. */
export async function artifactId(jobId: string, path: string): Promise<string> {
  return `art_${(await sha256Hex(`${jobId}\n${path}`)).slice(0, 32)}`;
}

const signers = new Map<string, Promise<Signer>>();

/** The tenant's active signer; unlocked once per isolate and key (a rotation changes the kid). */
export async function tenantSigner(env: Env, tenantId: string): Promise<Signer> {
  const key = activeSigningKey(await new SigningKeyRing(database(env.DB), tenantId).all());
  const cacheKey = `${tenantId}/${key.kid}`;
  let signer = signers.get(cacheKey);
  if (!signer) {
    if (signers.size > 256) signers.clear();
    signer = unlockSigningKey(key, { tenantId, masterSecrets: masterSecret(env) });
    signers.set(cacheKey, signer);
    signer.catch(() => signers.delete(cacheKey));
  }
  return signer;
}

/**
 * Stores rendered artifacts: bytes in R2, and the artifact index with each artifact's signed
 * in-toto attestation (its DSSE envelope as canonical JSON, and that text's sha256).
 *
 * Bytes are deduplicated per tenant by sha256: a content the tenant already has is referenced where it is
 * stored; the batch's new contents go into one content-addressed pack (their concatenation, in plan order),
 * so a batch costs one R2 write instead of one per artifact. The same lock gives the same batches and so
 * the same packs.
 */
export class ArtifactWriter {
  constructor(
    private readonly env: Env,
    private readonly tenant: Pick<TenantRow, "id" | "jurisdiction">,
    private readonly jobId: string,
    private readonly lock: Lock,
    private readonly lockHash: string,
    private readonly signer: Signer,
  ) {}

  /**
   * `batchKey` names the unit batch: writing the same batch again adds nothing (rows nor skipped units).
   * `carried` are artifacts of an incremental job's base job that this batch carries over unchanged: their
   * rows keep path, content (where it is stored: nothing is written to R2), template and dependencies, under
   * this job's id with an attestation signed for this job's lock.
   */
  async write(
    batch: RenderedBatch,
    batchKey: string,
    now: string,
    carried: readonly ArtifactRecord[] = [],
  ): Promise<JobProgress> {
    const index = new ArtifactIndex(this.env, this.tenant);
    const encoded = batch.artifacts.map((artifact) => ({ artifact, bytes: utf8(artifact.content) }));
    // Signing and storing are independent: run them together (the order of rows is the plan's).
    const [signed, locations, carriedRows] = await Promise.all([
      Promise.all(encoded.map(({ artifact }) => this.attest(artifact))),
      this.store(encoded, index),
      Promise.all(
        carried.map(async (row): Promise<ArtifactRecord> => {
          const template = { path: row.templatePath, hash: row.templateHash };
          const mode = row.mode as RenderedBatch["artifacts"][number]["mode"];
          return { ...row, ...(await this.attest({ ...row, template, mode })), jobId: this.jobId, createdAt: now };
        }),
      ),
    ]);
    const rows: ArtifactRecord[] = batch.artifacts.map((artifact, index) => {
      const { id, attestation, attestationSha256 } = signed[index] as (typeof signed)[number];
      const location = locations.get(artifact.sha256) as ContentLocation;
      return {
        id,
        jobId: this.jobId,
        path: artifact.path,
        sha256: artifact.sha256,
        size: artifact.size,
        mode: artifact.mode,
        chmod: artifact.chmod ?? null,
        templatePath: artifact.template.path,
        templateHash: artifact.template.hash,
        dependencies: artifact.dependencies,
        attestationSha256,
        attestation,
        packSha256: location.packSha256,
        packOffset: location.packOffset,
        createdAt: now,
      };
    });
    return index.record(this.jobId, [...rows, ...carriedRows], { key: batchKey, skipped: batch.skipped.length }, now);
  }

  /** The artifact's row id in this job and its attestation for this job's lock. */
  private async attest(artifact: Parameters<typeof provenanceOf>[0]) {
    const envelope = await attestArtifact(provenanceOf(artifact, this.lock, this.lockHash), this.signer);
    const attestation = canonicalJson(envelope);
    const [attestationSha256, id] = await Promise.all([sha256Hex(attestation), artifactId(this.jobId, artifact.path)]);
    return { id, attestation, attestationSha256 };
  }

  /**
   * The location of every content of the batch: where the tenant already stores it, else in this batch's
   * pack, written before any row can point at it.
   */
  private async store(
    encoded: { artifact: { sha256: string }; bytes: Uint8Array<ArrayBuffer> }[],
    index: ArtifactIndex,
  ): Promise<Map<string, ContentLocation>> {
    const locations = await index.contentLocations([...new Set(encoded.map(({ artifact }) => artifact.sha256))]);
    const offsets = new Map<string, number>();
    const parts: Uint8Array[] = [];
    let length = 0;
    for (const { artifact, bytes } of encoded) {
      if (locations.has(artifact.sha256) || offsets.has(artifact.sha256)) continue;
      offsets.set(artifact.sha256, length);
      parts.push(bytes);
      length += bytes.byteLength;
    }
    if (offsets.size > 0) {
      const pack = concatBytes(parts);
      const stored = await new ContentStore(this.env.ARTIFACTS, this.tenant.id).put(pack, "application/octet-stream");
      for (const [sha256, packOffset] of offsets) locations.set(sha256, { packSha256: stored.sha256, packOffset });
    }
    return locations;
  }
}
