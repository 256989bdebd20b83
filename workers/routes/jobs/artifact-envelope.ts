import type { Context } from "hono";
import type { DsseEnvelope } from "../../../shared/generate/attestation";
import type { AppEnv } from "../../context";
import type { ArtifactRecord } from "../../repository/artifact-index";
import { ContentStore } from "../../storage/content-store";

/** The artifact's envelope: kept in its row; rows written before migration 0002 name an R2 blob instead. */
export async function envelopeOf(c: Context<AppEnv>, artifact: ArtifactRecord): Promise<DsseEnvelope> {
  const text =
    artifact.attestation ?? (await new ContentStore(c.env.ARTIFACTS, c.var.tenant.id).text(artifact.attestationSha256));
  if (text === null) throw new Error(`attestation ${artifact.attestationSha256} missing`);
  return JSON.parse(text) as DsseEnvelope;
}
