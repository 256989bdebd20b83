import { sha256Hex } from "../core/sha256";
import type { Signer } from "../crypto/ed25519";
import {
  type ArtifactProvenance,
  attestArtifact,
  type DsseEnvelope,
  type InTotoStatement,
  type JsonWebKeySet,
  type VerifyOptions,
  type VerifyReason,
  verifyEnvelope,
} from "./attestation";
import { assertParamsMatchLock, type Lock, LockError, lockHash } from "./lock";
import { type JobPlan, planJob } from "./plan";
import type { PlanDependencies, PlannedArtifact, PlanOptions, PlanTemplate } from "./template-unit";

/**
 * Lock → artifacts (+ attestations), with every input checked against the lock first, so that
 * "same lock ⇒ same bytes" cannot be broken by a changed template or params. The injected
 * PlanDependencies must be bound to lock.graph (the pinned graph version), never a newer one.
 */
export interface GenerateFromLockInput {
  lock: Lock;
  /** Exactly the lock's templates; each hash is recomputed from the source. */
  templates: readonly PlanTemplate[];
  /** Params whose canonical hash is lock.paramsHash. */
  params?: Record<string, unknown>;
  deps: PlanDependencies;
  /** The tenant's active key; without it artifacts are planned but not attested (dry run). */
  signer?: Signer;
  options?: Pick<PlanOptions, "maxArtifacts" | "pathLimits">;
}

export interface AttestedArtifact extends PlannedArtifact {
  envelope: DsseEnvelope | null;
}

export interface JobResult {
  lockHash: string;
  artifacts: AttestedArtifact[];
  skipped: JobPlan["skipped"];
}

/** The `kgen` context object every template sees: deterministic facts from the lock only. */
export function kgenContext(lock: Lock): Record<string, unknown> {
  return {
    buildTime: lock.buildTime,
    engineVersion: lock.engineVersion,
    generator: lock.generator.name,
    graph: lock.graph,
  };
}

/** Throws LockError unless the templates are exactly the lock's, byte for byte. */
export async function assertTemplatesMatchLock(lock: Lock, templates: readonly PlanTemplate[]): Promise<void> {
  const issues: string[] = [];
  const given = new Set<string>();
  for (const template of templates) {
    given.add(template.path);
    const actual = await sha256Hex(template.source);
    if (actual !== template.hash) issues.push(`${template.path}: source hashes to ${actual}, not ${template.hash}`);
    const locked = lock.generator.templates[template.path];
    if (locked === undefined) issues.push(`${template.path}: not in the lock`);
    else if (locked !== actual) issues.push(`${template.path}: lock pins ${locked}, source is ${actual}`);
  }
  for (const path of Object.keys(lock.generator.templates)) if (!given.has(path)) issues.push(`${path}: missing`);
  if (issues.length > 0) throw new LockError("templates do not match the lock", issues);
}

/** The provenance predicate of one planned artifact under a lock. */
export function provenanceOf<
  Artifact extends Pick<PlannedArtifact, "path" | "sha256" | "mode" | "template" | "dependencies">,
>(artifact: Artifact, lock: Lock, hashOfLock: string): ArtifactProvenance {
  return {
    path: artifact.path,
    sha256: artifact.sha256,
    predicate: {
      graph: lock.graph,
      generator: { name: lock.generator.name },
      template: artifact.template,
      paramsHash: lock.paramsHash,
      engineVersion: lock.engineVersion,
      buildTime: lock.buildTime,
      mode: artifact.mode,
      lockHash: hashOfLock,
      dependencies: artifact.dependencies,
    },
  };
}

export async function generateFromLock(input: GenerateFromLockInput): Promise<JobResult> {
  const params = input.params ?? {};
  await assertParamsMatchLock(input.lock, params);
  await assertTemplatesMatchLock(input.lock, input.templates);
  const hashOfLock = await lockHash(input.lock);
  const plan = await planJob(input.templates, input.deps, {
    ...input.options,
    params,
    kgen: kgenContext(input.lock),
  });
  const artifacts: AttestedArtifact[] = [];
  for (const artifact of plan.artifacts) {
    const envelope = input.signer
      ? await attestArtifact(provenanceOf(artifact, input.lock, hashOfLock), input.signer)
      : null;
    artifacts.push({ ...artifact, envelope });
  }
  return { lockHash: hashOfLock, artifacts, skipped: plan.skipped };
}

/** The provenance of an artifact, verified, in the shape `GET /v1/artifacts/{id}/explain` returns. */
export interface Explanation {
  valid: boolean;
  reasons: VerifyReason[];
  details: string[];
  signedBy: string | null;
  artifact: { path: string; sha256: string } | null;
  graph: { name: string; version: number | string; hash: string } | null;
  generator: string | null;
  template: { path: string; hash: string } | null;
  paramsHash: string | null;
  engineVersion: string | null;
  buildTime: string | null;
  mode: string | null;
  lockHash: string | null;
  dependencies: Array<{ query: string; resultSha256: string }>;
  /** One line per fact, for people (KGEN's `artifact explain`). */
  summary: string[];
}

function field<T>(read: () => T): T | null {
  try {
    return read() ?? null;
  } catch {
    return null;
  }
}

export async function explainEnvelope(
  envelope: unknown,
  jwks: JsonWebKeySet,
  options: VerifyOptions = {},
): Promise<Explanation> {
  const result = await verifyEnvelope(envelope, jwks, options);
  const statement: InTotoStatement | null = result.statement;
  const predicate = statement?.predicate;
  const subject = statement?.subject[0];
  const dependencies = Array.isArray(predicate?.dependencies) ? predicate.dependencies : [];
  const explanation: Explanation = {
    valid: result.valid,
    reasons: result.reasons,
    details: result.details,
    signedBy: result.keyid,
    artifact: subject ? { path: subject.name, sha256: subject.digest.sha256 } : null,
    graph: field(() => predicate?.graph ?? null),
    generator: field(() => predicate?.generator?.name ?? null),
    template: field(() => predicate?.template ?? null),
    paramsHash: field(() => predicate?.paramsHash ?? null),
    engineVersion: field(() => predicate?.engineVersion ?? null),
    buildTime: field(() => predicate?.buildTime ?? null),
    mode: field(() => predicate?.mode ?? null),
    lockHash: field(() => predicate?.lockHash ?? null),
    dependencies,
    summary: [],
  };
  const lines = explanation.summary;
  lines.push(
    explanation.valid ? `signature valid (key ${explanation.signedBy})` : `NOT VALID: ${result.reasons.join(", ")}`,
  );
  if (explanation.artifact) lines.push(`artifact ${explanation.artifact.path} sha256:${explanation.artifact.sha256}`);
  if (explanation.graph) {
    lines.push(`graph ${explanation.graph.name} version ${explanation.graph.version} (${explanation.graph.hash})`);
  }
  if (explanation.template) {
    lines.push(
      `template ${explanation.template.path} sha256:${explanation.template.hash}` +
        (explanation.generator ? ` of generator ${explanation.generator}` : ""),
    );
  }
  if (explanation.paramsHash) lines.push(`params sha256:${explanation.paramsHash}`);
  if (explanation.engineVersion) lines.push(`engine ${explanation.engineVersion}, built ${explanation.buildTime}`);
  if (explanation.mode) lines.push(`write mode ${explanation.mode}`);
  if (explanation.lockHash) lines.push(`lock sha256:${explanation.lockHash}`);
  for (const dependency of dependencies)
    lines.push(`read ${JSON.stringify(dependency.query)} → sha256:${dependency.resultSha256}`);
  return explanation;
}
