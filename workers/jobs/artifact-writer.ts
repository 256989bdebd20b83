import type { RenderedBatch } from "../../durable-objects/tenant/job-service";
import { canonicalJson } from "../../shared/core/canonical-json";
import { concatBytes, utf8 } from "../../shared/core/encoding";
import { sha256Hex } from "../../shared/core/sha256";
import {
  activeSigningKey,
  type Signer,
  type TenantSigningKey,
  unlockSigningKey,
} from "../../shared/crypto/tenant-keys";
import { attestArtifact } from "../../shared/generate/attestation";
import { provenanceOf } from "../../shared/generate/generate";
import type { Lock } from "../../shared/generate/lock";
import { QuotaExceededError } from "../../shared/quota-errors";
import { masterSecret } from "../auth/config";
import type { TenantRow } from "../db/schema";
import { ArtifactIndex, type ArtifactRecord, type ContentLocation } from "../repository/artifact-index";
import type { JobProgress } from "../repository/jobs";
import { ContentStore } from "../storage/content-store";
import { batchProgressEvent } from "./job-progress";

/** Where a batch is written: its names, its bytes' limit and the job's units (for its progress event). */
export interface BatchTarget {
  /** Names the unit batch: its record, its rows' progress event. */
  key: string;
  /** Idempotency key of the batch's artifact-bytes reservation. */
  reservationKey: string;
  /** The plan's artifact bytes. */
  bytesLimit: number;
  /** The job's units. */
  total: number;
}

/** Attestations signed between two turns of the event loop. */
const ATTESTATIONS_PER_TURN = 8;

/** Artifact ids derive from (job, path): a redelivered batch writes the same rows, never duplicates. */
export async function artifactId(jobId: string, path: string): Promise<string> {
  return `art_${(await sha256Hex(`${jobId}\n${path}`)).slice(0, 32)}`;
}

const signers = new Map<string, Promise<Signer>>();

/**
 * The tenant's active signer among its signing `keys` (as read with the job); unlocked once per isolate and
 * key (a rotation changes the kid).
 */
export async function tenantSigner(env: Env, tenantId: string, keys: TenantSigningKey[]): Promise<Signer> {
  const key = activeSigningKey(keys);
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
   * Writes one unit batch: reserves its artifact bytes (QuotaExceededError when the plan's quota would be
   * passed; nothing is stored then), stores its new contents in one pack, and records its rows with their
   * attestations and the batch's `job.progress` event. Writing the same batch again adds nothing (rows,
   * skipped units, bytes, event). `carried` are artifacts of an incremental job's base job that this batch
   * carries over unchanged: their rows keep path, content (where it is stored: nothing is written to R2),
   * template and dependencies, under this job's id with an attestation signed for this job's lock.
   */
  async write(
    batch: RenderedBatch,
    target: BatchTarget,
    now: string,
    carried: readonly ArtifactRecord[] = [],
  ): Promise<JobProgress> {
    const index = new ArtifactIndex(this.env, this.tenant);
    const encoded = batch.artifacts.map((artifact) => ({ artifact, bytes: utf8(artifact.content) }));
    const bytes = [...batch.artifacts, ...carried].reduce((sum, artifact) => sum + artifact.size, 0);
    const prepared = index.prepareBatch(
      { counter: "artifactBytes", amount: bytes, limit: target.bytesLimit, idempotencyKey: target.reservationKey },
      [...new Set(encoded.map(({ artifact }) => artifact.sha256))],
    );
    // Signing does not wait for the reservation: a refused one is rare, and its signatures are only dropped.
    const [signed, locations, carriedRows, progress] = await Promise.all([
      this.attestAll(encoded.map(({ artifact }) => artifact)),
      prepared.then(({ reservation, locations }) => {
        if (!reservation.granted) throw new QuotaExceededError("artifactBytes", reservation.limit, reservation.used);
        return this.store(encoded, locations);
      }),
      Promise.all(
        carried.map(async (row): Promise<ArtifactRecord> => {
          const template = { path: row.templatePath, hash: row.templateHash };
          const mode = row.mode as RenderedBatch["artifacts"][number]["mode"];
          return { ...row, ...(await this.attest({ ...row, template, mode })), jobId: this.jobId, createdAt: now };
        }),
      ),
      batchProgressEvent(this.jobId, target.key, target.total),
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
    const batchRecord = { key: target.key, skipped: batch.skipped.length };
    return index.record(this.jobId, [...rows, ...carriedRows], batchRecord, now, progress);
  }

  /**
   * Attestations of a batch's artifacts, in order, a few at a time with a macrotask turn between them:
   * signing is CPU work on the isolate's thread, and requests waiting for the isolate run in the turns.
   */
  private async attestAll(artifacts: RenderedBatch["artifacts"]) {
    const signed: Awaited<ReturnType<ArtifactWriter["attest"]>>[] = [];
    for (let start = 0; start < artifacts.length; start += ATTESTATIONS_PER_TURN) {
      if (start > 0) await new Promise<void>((resolve) => setTimeout(resolve, 0));
      const slice = artifacts.slice(start, start + ATTESTATIONS_PER_TURN);
      signed.push(...(await Promise.all(slice.map((artifact) => this.attest(artifact)))));
    }
    return signed;
  }

  /** The artifact's row id in this job and its attestation for this job's lock. */
  private async attest(artifact: Parameters<typeof provenanceOf>[0]) {
    const envelope = await attestArtifact(provenanceOf(artifact, this.lock, this.lockHash), this.signer);
    const attestation = canonicalJson(envelope);
    const [attestationSha256, id] = await Promise.all([sha256Hex(attestation), artifactId(this.jobId, artifact.path)]);
    return { id, attestation, attestationSha256 };
  }

  /**
   * The location of every content of the batch: where the tenant already stores it (`locations`), else in
   * this batch's pack, written before any row can point at it.
   */
  private async store(
    encoded: { artifact: { sha256: string }; bytes: Uint8Array<ArrayBuffer> }[],
    locations: Map<string, ContentLocation>,
  ): Promise<Map<string, ContentLocation>> {
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
