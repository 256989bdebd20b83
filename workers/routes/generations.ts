import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { dsseEnvelopeSchema } from "../../shared/contracts/attestation";
import { graphNameSchema } from "../../shared/contracts/graphs";
import { lockSchema, renderOptionsSchema } from "../../shared/contracts/lock";
import { generatorNameSchema } from "../../shared/contracts/templates";
import { publicJwks } from "../../shared/crypto/tenant-keys";
import { type DsseEnvelope, verifyEnvelope } from "../../shared/generate/attestation";
import { planBundle, streamBundle } from "../../shared/generate/bundle";
import { explainEnvelope } from "../../shared/generate/generate";
import { parseLock } from "../../shared/generate/lock";
import { authenticate, requireRole } from "../auth/authenticate";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import type { ArtifactRow, JobRow } from "../db/schema";
import { lockFor } from "../generation/generation-inputs";
import { verifyReplayedLock } from "../generation/replayed-lock";
import { planOnly, startGeneration } from "../generation/run-generation";
import { createRouter, type DocumentedRoute, documentRoutes, requireJsonBody } from "../openapi";
import { HttpError } from "../problems/http-error";
import { invalidField, notFound, validationError } from "../problems/problem-response";
import { JobLedger } from "../repository/jobs";
import { decodeCursor, pageOf, pageQuerySchema, toPage } from "../repository/pagination";
import { SigningKeyRing } from "../repository/signing-keys";
import { artifactBody, artifactBytes } from "../storage/artifact-content";
import { ContentStore } from "../storage/content-store";

const paramsSchema = z.record(z.string(), z.unknown()).default({});
const generationRequestSchema = z.union([
  z
    .object({
      graph: graphNameSchema,
      version: z.number().int().min(1).optional(),
      generator: generatorNameSchema,
      params: paramsSchema,
      options: renderOptionsSchema.optional(),
      dryRun: z.boolean().default(false),
    })
    .strict(),
  z.object({ lock: lockSchema, params: paramsSchema, dryRun: z.boolean().default(false) }).strict(),
]);

export function jobView(job: JobRow) {
  return {
    id: job.id,
    status: job.status,
    lock: job.lock,
    lockHash: job.lockHash,
    counts: { total: job.total, artifacts: job.done, skipped: job.skipped, bytes: job.bytes },
    error: job.error,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

const artifactView = (row: ArtifactRow) => ({
  id: row.id,
  path: row.path,
  sha256: row.sha256,
  size: row.size,
  mode: row.mode,
  chmod: row.chmod,
  template: { path: row.templatePath, hash: row.templateHash },
});

async function findJob(c: Context<AppEnv>): Promise<JobRow> {
  const job = await new JobLedger(database(c.env.DB), c.var.tenant.id).find(c.req.param("id") ?? "");
  if (!job) throw notFound("The job");
  return job;
}

async function findArtifact(c: Context<AppEnv>): Promise<ArtifactRow> {
  const artifact = await new JobLedger(database(c.env.DB), c.var.tenant.id).artifact(c.req.param("id") ?? "");
  if (!artifact) throw notFound("The artifact");
  return artifact;
}

/** The artifact's envelope: kept in its row; rows written before migration 0002 name an R2 blob instead. */
async function envelopeOf(c: Context<AppEnv>, artifact: ArtifactRow): Promise<DsseEnvelope> {
  const text =
    artifact.attestation ?? (await new ContentStore(c.env.ARTIFACTS, c.var.tenant.id).text(artifact.attestationSha256));
  if (text === null) throw new Error(`attestation ${artifact.attestationSha256} missing`);
  return JSON.parse(text) as DsseEnvelope;
}

export const generationRoutes = createRouter();

generationRoutes.post("/generations", authenticate, requireRole("editor"), requireJsonBody, async (c) => {
  const parsed = generationRequestSchema.safeParse(await c.req.json().catch(() => undefined));
  if (!parsed.success) throw validationError(parsed.error, "body");
  const body = parsed.data;
  const { tenant } = c.var;
  let lock: z.infer<typeof lockSchema>;
  if ("lock" in body) {
    lock = parseLock(body.lock);
    await verifyReplayedLock(c.env, tenant, lock, body.params);
  } else {
    lock = await lockFor(c.env, tenant, body);
  }
  if (body.dryRun) return c.json(await planOnly(c.env, tenant, lock, body.params), 200);
  const { job, synchronous } = await startGeneration(c.env, tenant, lock, body.params);
  return c.json(jobView(job), synchronous ? 201 : 202, { location: `/v1/jobs/${job.id}` });
});

generationRoutes.get("/jobs", authenticate, requireRole("viewer"), async (c) => {
  const query = pageQuerySchema.safeParse(c.req.query());
  if (!query.success) throw validationError(query.error, "query");
  const { limit, cursor } = query.data;
  const rows = await new JobLedger(database(c.env.DB), c.var.tenant.id).list(
    limit,
    cursor ? decodeCursor(cursor) : undefined,
  );
  return c.json(toPage(rows, limit, jobView));
});

generationRoutes.get("/jobs/:id", authenticate, requireRole("viewer"), async (c) => c.json(jobView(await findJob(c))));

generationRoutes.get("/jobs/:id/artifacts", authenticate, requireRole("viewer"), async (c) => {
  const job = await findJob(c);
  const limit = z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(200)
    .safeParse(c.req.query("limit") ?? undefined);
  if (!limit.success) throw invalidField("limit", "1–1000", "query");
  const rows = await new JobLedger(database(c.env.DB), c.var.tenant.id).artifactsOf(
    job.id,
    limit.data,
    c.req.query("cursor"),
  );
  return c.json(pageOf(rows, limit.data, artifactView, (row) => row.path));
});

generationRoutes.get("/jobs/:id/bundle", authenticate, requireRole("viewer"), async (c) => {
  const job = await findJob(c);
  if (job.status !== "completed")
    throw new HttpError(409, "job-not-completed", "Conflict", `The job is ${job.status}.`);
  const ledger = new JobLedger(database(c.env.DB), c.var.tenant.id);
  const artifacts = await ledger.artifactsOf(job.id, 1_000_000, undefined, { withAttestation: true });
  const content = new ContentStore(c.env.ARTIFACTS, c.var.tenant.id);
  const rows = planBundle(
    artifacts.map((a) => ({
      path: a.path,
      mode: a.mode,
      sha256: a.sha256,
      size: a.size,
      unixMode: a.chmod ? Number.parseInt(a.chmod, 8) : undefined,
      hasAttestation: true,
      template: a.templatePath,
    })),
  );
  const stream = streamBundle({
    lock: parseLock(job.lock),
    rows,
    readArtifact: async (row) => {
      const artifact = artifacts[row.index] as ArtifactRow;
      const bytes = await artifactBytes(content, artifact);
      if (bytes === null) throw new Error(`artifact blob ${artifact.sha256} missing`);
      return bytes;
    },
    readAttestation: async (row) => envelopeOf(c, artifacts[row.index] as ArtifactRow),
  });
  return new Response(stream, {
    headers: { "content-type": "application/zip", "content-disposition": `attachment; filename="${job.id}.zip"` },
  });
});

generationRoutes.get("/artifacts/:id", authenticate, requireRole("viewer"), async (c) => {
  const artifact = await findArtifact(c);
  const etag = `"${artifact.sha256}"`;
  const caching = { etag, "cache-control": "private, max-age=31536000, immutable" };
  const ifNoneMatch = c.req.header("if-none-match");
  if (ifNoneMatch?.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)) {
    return c.body(null, 304, caching);
  }
  const body = await artifactBody(new ContentStore(c.env.ARTIFACTS, c.var.tenant.id), artifact);
  if (!body) throw new Error(`artifact blob ${artifact.sha256} missing`);
  return new Response(body, {
    headers: {
      ...caching,
      "content-type": "application/octet-stream",
      "content-length": String(artifact.size),
      "x-kgen-path": artifact.path,
    },
  });
});

generationRoutes.get("/artifacts/:id/attestation", authenticate, requireRole("viewer"), async (c) => {
  const artifact = await findArtifact(c);
  return c.json(await envelopeOf(c, artifact));
});

generationRoutes.get("/artifacts/:id/explain", authenticate, requireRole("viewer"), async (c) => {
  const artifact = await findArtifact(c);
  const jwks = publicJwks(await new SigningKeyRing(database(c.env.DB), c.var.tenant.id).all());
  const explanation = await explainEnvelope(await envelopeOf(c, artifact), jwks, {
    expectedSha256: artifact.sha256,
    expectedPath: artifact.path,
  });
  return c.json({ ...explanation, id: artifact.id, jobId: artifact.jobId });
});

const verifySchema = z
  .object({
    artifact: z.string().optional().describe("An artifact id of yours: its sha256 and path are checked."),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe("The sha256 of the bytes you have."),
    envelope: dsseEnvelopeSchema,
  })
  .strict()
  .refine((body) => (body.artifact === undefined) !== (body.sha256 === undefined), {
    message: "Give exactly one of artifact and sha256.",
    path: ["artifact"],
  });

generationRoutes.post("/verify", authenticate, requireRole("viewer"), requireJsonBody, async (c) => {
  const parsed = verifySchema.safeParse(await c.req.json().catch(() => undefined));
  if (!parsed.success) throw validationError(parsed.error, "body");
  const { artifact: artifactIdValue, sha256, envelope } = parsed.data;
  let expected: { expectedSha256: string; expectedPath?: string };
  if (artifactIdValue !== undefined) {
    const artifact = await new JobLedger(database(c.env.DB), c.var.tenant.id).artifact(artifactIdValue);
    if (!artifact) throw notFound("The artifact");
    expected = { expectedSha256: artifact.sha256, expectedPath: artifact.path };
  } else {
    expected = { expectedSha256: sha256 as string };
  }
  const jwks = publicJwks(await new SigningKeyRing(database(c.env.DB), c.var.tenant.id).all());
  const result = await verifyEnvelope(envelope, jwks, expected);
  return c.json({
    valid: result.valid,
    reasons: result.reasons,
    details: result.details,
    keyid: result.keyid,
    statement: result.statement,
  });
});

const docs: DocumentedRoute[] = [
  [
    "post",
    "/generations",
    "Generate a generator's templates over a graph version (or replay a lock): 201 with the finished job, 202 when it runs on the queue; `dryRun` returns the plan (editor)",
    [400, 401, 403, 404, 409, 415, 422, 429],
  ],
  ["get", "/jobs", "Generation jobs, newest first (viewer)", [401, 403, 429]],
  ["get", "/jobs/{id}", "A job: status, lock, counts (viewer)", [401, 403, 404, 429]],
  [
    "get",
    "/jobs/{id}/artifacts",
    "A job's artifacts: id, path, sha256, size, mode (viewer)",
    [400, 401, 403, 404, 429],
  ],
  [
    "get",
    "/jobs/{id}/bundle",
    "A zip of the artifacts, their attestations and the lock (viewer)",
    [401, 403, 404, 409, 429],
  ],
  [
    "get",
    "/artifacts/{id}",
    "An artifact's bytes; ETag is its sha256, If-None-Match gives 304 (viewer)",
    [401, 403, 404, 429],
  ],
  [
    "get",
    "/artifacts/{id}/attestation",
    "The artifact's DSSE envelope with its in-toto statement (viewer)",
    [401, 403, 404, 429],
  ],
  ["get", "/artifacts/{id}/explain", "The artifact's provenance, verified and readable (viewer)", [401, 403, 404, 429]],
  [
    "post",
    "/verify",
    "Verify an envelope against an artifact (or a sha256) with the tenant's public keys (viewer)",
    [400, 401, 403, 404, 415, 429],
  ],
];
documentRoutes(generationRoutes, "generation", docs);
