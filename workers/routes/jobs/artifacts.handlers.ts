import type { Context } from "hono";
import { Base64Error, base64ToBytes } from "../../../shared/core/encoding";
import { sha256Hex } from "../../../shared/core/sha256";
import { publicJwks } from "../../../shared/crypto/tenant-keys";
import { verifyEnvelope as verifyDsseEnvelope } from "../../../shared/generate/attestation";
import { explainEnvelope } from "../../../shared/generate/generate";
import type { AppEnv } from "../../context";
import { database } from "../../db/client";
import type { AppRouteHandler } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { notFound } from "../../problems/problem-response";
import { ArtifactIndex, type ArtifactRecord } from "../../repository/artifact-index";
import { SigningKeyRing } from "../../repository/signing-keys";
import { artifactBody } from "../../storage/artifact-content";
import { artifactMediaType } from "../../storage/artifact-media-type";
import { ContentStore } from "../../storage/content-store";
import { envelopeOf } from "./artifact-envelope";
import type * as routes from "./artifacts.routes";

async function findArtifact(c: Context<AppEnv>, id: string): Promise<ArtifactRecord> {
  const artifact = await new ArtifactIndex(c.env, c.var.tenant).get(id);
  if (!artifact) throw notFound("The artifact");
  return artifact;
}

export const getArtifactContent: AppRouteHandler<typeof routes.getArtifactContent> = async (c) => {
  const artifact = await findArtifact(c, c.req.valid("param").id);
  const etag = `"${artifact.sha256}"`;
  const caching = { etag, "cache-control": "private, max-age=31536000, immutable" };
  const ifNoneMatch = c.req.header("if-none-match");
  if (ifNoneMatch?.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)) {
    return c.body(null, 304, caching);
  }
  const body = await artifactBody(new ContentStore(c.env.ARTIFACTS, c.var.tenant.id), artifact);
  if (!body) throw new Error(`artifact blob ${artifact.sha256} missing`);
  return c.body(body, 200, {
    ...caching,
    "content-type": artifactMediaType(artifact.path),
    "content-length": String(artifact.size),
    "x-kgen-path": artifact.path,
  });
};

export const getArtifactAttestation: AppRouteHandler<typeof routes.getArtifactAttestation> = async (c) => {
  const artifact = await findArtifact(c, c.req.valid("param").id);
  return c.json(await envelopeOf(c, artifact), 200);
};

export const explainArtifact: AppRouteHandler<typeof routes.explainArtifact> = async (c) => {
  const artifact = await findArtifact(c, c.req.valid("param").id);
  const jwks = publicJwks(await new SigningKeyRing(database(c.env.DB), c.var.tenant.id).all());
  const explanation = await explainEnvelope(await envelopeOf(c, artifact), jwks, {
    expectedSha256: artifact.sha256,
    expectedPath: artifact.path,
  });
  return c.json({ ...explanation, id: artifact.id, jobId: artifact.jobId }, 200);
};

/** The artifact bytes a verify request sends as base64; anything else is a 400 naming the field. */
function decodeContent(content: string): Uint8Array {
  try {
    return base64ToBytes(content);
  } catch (error) {
    if (!(error instanceof Base64Error)) throw error;
    throw new HttpError(400, "validation-error", "Invalid request", "Invalid body: content.", {
      extensions: { errors: [{ field: "content", message: "Must be the artifact's bytes in base64." }] },
    });
  }
}

export const verifyEnvelope: AppRouteHandler<typeof routes.verifyEnvelope> = async (c) => {
  const body = c.req.valid("json");
  let expected: { expectedSha256: string; expectedPath?: string };
  let envelope: unknown;
  if ("artifact" in body) {
    const artifact = await findArtifact(c, body.artifact);
    expected = { expectedSha256: artifact.sha256, expectedPath: artifact.path };
    envelope = body.envelope ?? (await envelopeOf(c, artifact));
  } else if ("content" in body) {
    expected = { expectedSha256: await sha256Hex(decodeContent(body.content)) };
    envelope = body.envelope;
  } else {
    expected = { expectedSha256: body.sha256 };
    envelope = body.envelope;
  }
  const jwks = publicJwks(await new SigningKeyRing(database(c.env.DB), c.var.tenant.id).all());
  const result = await verifyDsseEnvelope(envelope, jwks, expected);
  return c.json(
    {
      valid: result.valid,
      reasons: result.reasons,
      details: result.details,
      keyid: result.keyid,
      statement: result.statement,
    },
    200,
  );
};
