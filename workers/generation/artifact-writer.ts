import type { RenderedBatch } from "../../durable-objects/tenant/generation-service";
import { activeSigningKey, type Signer, unlockSigningKey } from "../../shared/crypto/tenant-keys";
import { sha256Hex, utf8 } from "../../shared/encoding";
import { attestArtifact } from "../../shared/generate/attestation";
import { canonicalJson } from "../../shared/generate/canonical-json";
import { provenanceOf } from "../../shared/generate/generate";
import type { Lock } from "../../shared/generate/lock";
import { masterSecret } from "../auth/config";
import { database } from "../db/client";
import type { ArtifactRow } from "../db/schema";
import { JobLedger } from "../repository/jobs";
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
 * Stores rendered artifacts: bytes content-addressed in R2, and the artifact index in D1 with each
 * artifact's signed in-toto attestation (its DSSE envelope as canonical JSON, and that text's sha256).
 */
export class ArtifactWriter {
  constructor(
    private readonly env: Env,
    private readonly tenantId: string,
    private readonly jobId: string,
    private readonly lock: Lock,
    private readonly lockHash: string,
    private readonly signer: Signer,
  ) {}

  async write(batch: RenderedBatch, skippedIsNew: boolean, now: string): Promise<void> {
    const content = new ContentStore(this.env.ARTIFACTS, this.tenantId);
    // Artifacts are independent: store and sign them concurrently (the order of rows is the plan's).
    const rows: Omit<ArtifactRow, "tenantId">[] = await Promise.all(
      batch.artifacts.map(async (artifact) => {
        const bytes = utf8(artifact.content);
        const envelope = await attestArtifact(
          provenanceOf({ ...artifact, bytes }, this.lock, this.lockHash),
          this.signer,
        );
        const attestation = canonicalJson(envelope);
        const [, attestationSha256, id] = await Promise.all([
          content.put(bytes, "application/octet-stream"),
          sha256Hex(attestation),
          artifactId(this.jobId, artifact.path),
        ]);
        return {
          id,
          jobId: this.jobId,
          path: artifact.path,
          sha256: artifact.sha256,
          size: artifact.size,
          mode: artifact.mode,
          chmod: artifact.chmod === undefined ? null : artifact.chmod.toString(8).padStart(4, "0"),
          templatePath: artifact.template.path,
          templateHash: artifact.template.hash,
          dependencies: artifact.dependencies.map((d) => ({ query: d.query, resultHash: d.resultSha256 })),
          attestationSha256,
          attestation,
          createdAt: now,
        };
      }),
    );
    await new JobLedger(database(this.env.DB), this.tenantId).recordArtifacts(
      this.jobId,
      rows,
      skippedIsNew ? batch.skipped.length : 0,
      now,
    );
  }
}
