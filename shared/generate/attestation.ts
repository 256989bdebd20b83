import type { JWK } from "jose";
import { canonicalJson } from "../core/canonical-json";
import { Base64Error, base64ToBytes, bytesToBase64, concatBytes, utf8 } from "../core/encoding";
import { ed25519Kid, ed25519Verify, importVerifyKey, type Signer } from "../crypto/ed25519";

export const IN_TOTO_STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const KGEN_PREDICATE_TYPE = "https://kgen.dev/provenance/v1";
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

/** One read the render made: the query text and the sha256 of the canonical JSON of its result. */
export interface RecordedDependency {
  query: string;
  resultSha256: string;
}

export interface KgenProvenancePredicate {
  graph: { name: string; version: number | string; hash: string };
  generator?: { name: string };
  template: { path: string; hash: string };
  paramsHash: string;
  engineVersion: string;
  buildTime: string;
  /** Write mode of the artifact: `write` for whole files, else the patch mode. */
  mode?: string;
  /** lockHash of the job the artifact belongs to. */
  lockHash?: string;
  dependencies: RecordedDependency[];
}

export interface InTotoStatement<P = KgenProvenancePredicate> {
  _type: typeof IN_TOTO_STATEMENT_TYPE;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: string;
  predicate: P;
}

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  /** Standard base64 of the payload bytes. */
  payload: string;
  signatures: DsseSignature[];
}

export interface ArtifactProvenance {
  /** Normalized output path of the artifact. */
  path: string;
  /** sha256 hex of the artifact bytes. */
  sha256: string;
  predicate: KgenProvenancePredicate;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The in-toto Statement for one artifact; dependencies are de-duplicated and sorted. */
export function buildStatement(provenance: ArtifactProvenance): InTotoStatement {
  const seen = new Set<string>();
  const dependencies = provenance.predicate.dependencies
    .map((dependency) => ({ query: dependency.query, resultSha256: dependency.resultSha256 }))
    .sort((a, b) => compareStrings(a.query, b.query) || compareStrings(a.resultSha256, b.resultSha256))
    .filter((dependency) => {
      const key = `${dependency.query}\u0000${dependency.resultSha256}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: provenance.path, digest: { sha256: provenance.sha256 } }],
    predicateType: KGEN_PREDICATE_TYPE,
    predicate: { ...provenance.predicate, dependencies },
  };
}

/**
 * DSSE pre-authentication encoding:
 * "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN = decimal byte length.
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  return concatBytes([utf8(`DSSEv1 ${type.length} `), type, utf8(` ${payload.length} `), payload]);
}

/** Signs payload bytes into a DSSE envelope (one signature per signer, in the order given). */
export async function signEnvelope(
  payload: Uint8Array,
  payloadType: string,
  signers: Signer | readonly Signer[],
): Promise<DsseEnvelope> {
  const list = Array.isArray(signers) ? (signers as readonly Signer[]) : [signers as Signer];
  if (list.length === 0) throw new Error("signEnvelope needs at least one signer");
  const message = preAuthEncoding(payloadType, payload);
  const signatures: DsseSignature[] = [];
  for (const signer of list) signatures.push({ keyid: signer.keyid, sig: bytesToBase64(await signer.sign(message)) });
  return { payloadType, payload: bytesToBase64(payload), signatures };
}

/**
 * The signed attestation of one artifact. The payload is the canonical JSON of the statement and
 * Ed25519 signatures are deterministic, so the same artifact and key give the same envelope bytes.
 */
export async function attestArtifact(provenance: ArtifactProvenance, signer: Signer): Promise<DsseEnvelope> {
  const statement = buildStatement(provenance);
  return signEnvelope(utf8(canonicalJson(statement)), IN_TOTO_PAYLOAD_TYPE, signer);
}

export type VerifyReason =
  | "malformed"
  | "unsupported-payload-type"
  | "unknown-key"
  | "bad-signature"
  | "not-in-toto-statement"
  | "unsupported-predicate-type"
  | "subject-mismatch";

export interface VerifyOptions {
  /** sha256 hex of the artifact bytes the envelope must name as a subject. */
  expectedSha256?: string;
  /** Output path the envelope must name as a subject. */
  expectedPath?: string;
  /** Predicate type required; default KGEN_PREDICATE_TYPE, `null` accepts any. */
  predicateType?: string | null;
}

export interface VerifyResult {
  valid: boolean;
  /** Distinct failure codes in the order found; empty when valid. */
  reasons: VerifyReason[];
  /** One human-readable line per failure. */
  details: string[];
  /** The decoded statement when the payload is a well-formed in-toto Statement (even if invalid). */
  statement: InTotoStatement | null;
  /** keyid of the signature that verified, when one did. */
  keyid: string | null;
}

export interface JsonWebKeySet {
  keys: JWK[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseEnvelope(value: unknown): DsseEnvelope | null {
  if (!isRecord(value)) return null;
  const { payloadType, payload, signatures } = value;
  if (typeof payloadType !== "string" || typeof payload !== "string" || !Array.isArray(signatures)) return null;
  if (signatures.length === 0) return null;
  const parsed: DsseSignature[] = [];
  for (const signature of signatures) {
    if (!isRecord(signature) || typeof signature.sig !== "string") return null;
    if (signature.keyid !== undefined && typeof signature.keyid !== "string") return null;
    parsed.push({ keyid: (signature.keyid as string | undefined) ?? "", sig: signature.sig });
  }
  return { payloadType, payload, signatures: parsed };
}

function parseStatement(value: unknown): InTotoStatement | null {
  if (!isRecord(value) || !Array.isArray(value.subject) || value.subject.length === 0) return null;
  for (const subject of value.subject) {
    if (!isRecord(subject) || typeof subject.name !== "string" || !isRecord(subject.digest)) return null;
    if (subject.digest.sha256 !== undefined && typeof subject.digest.sha256 !== "string") return null;
  }
  if (typeof value._type !== "string" || typeof value.predicateType !== "string") return null;
  return value as unknown as InTotoStatement;
}

interface CandidateKey {
  kid: string;
  key: CryptoKey;
}

async function loadKeys(jwks: JsonWebKeySet): Promise<CandidateKey[]> {
  const keys: CandidateKey[] = [];
  for (const jwk of Array.isArray(jwks?.keys) ? jwks.keys : []) {
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") continue;
    const publicJwk = { kty: "OKP" as const, crv: "Ed25519" as const, x: jwk.x };
    try {
      keys.push({ kid: jwk.kid ?? (await ed25519Kid(publicJwk)), key: await importVerifyKey(publicJwk) });
    } catch {
      // A broken key in the set cannot verify anything; skip it rather than fail every envelope.
    }
  }
  return keys;
}

/**
 * Verifies a DSSE envelope carrying a KGEN provenance statement against a JWKS.
 * Valid when at least one signature verifies under a key of the set whose kid equals the
 * signature's keyid (an empty keyid tries every key), the payload is an in-toto Statement v1
 * with the expected predicate type, and the expected digest/path (if given) is a subject.
 * Never throws for bad input: every problem becomes a reason.
 */
export async function verifyEnvelope(
  envelope: unknown,
  jwks: JsonWebKeySet,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const reasons: VerifyReason[] = [];
  const details: string[] = [];
  const fail = (reason: VerifyReason, detail: string) => {
    if (!reasons.includes(reason)) reasons.push(reason);
    details.push(detail);
  };
  const result = (statement: InTotoStatement | null, keyid: string | null): VerifyResult => ({
    valid: reasons.length === 0,
    reasons,
    details,
    statement,
    keyid,
  });

  const parsed = parseEnvelope(envelope);
  if (!parsed) {
    fail("malformed", "not a DSSE envelope {payloadType, payload, signatures: [{keyid, sig}, …]}");
    return result(null, null);
  }
  let payload: Uint8Array;
  try {
    payload = base64ToBytes(parsed.payload);
  } catch (error) {
    if (!(error instanceof Base64Error)) throw error;
    fail("malformed", "payload is not base64");
    return result(null, null);
  }
  if (parsed.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    fail(
      "unsupported-payload-type",
      `payloadType is ${JSON.stringify(parsed.payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  }

  const keys = await loadKeys(jwks);
  const message = preAuthEncoding(parsed.payloadType, payload);
  let verifiedKeyid: string | null = null;
  const signatureFailures: Array<[VerifyReason, string]> = [];
  for (const [index, signature] of parsed.signatures.entries()) {
    const candidates = signature.keyid === "" ? keys : keys.filter((key) => key.kid === signature.keyid);
    if (candidates.length === 0) {
      signatureFailures.push([
        "unknown-key",
        `signature ${index}: no Ed25519 key with kid ${JSON.stringify(signature.keyid)}`,
      ]);
      continue;
    }
    let sig: Uint8Array;
    try {
      sig = base64ToBytes(signature.sig);
    } catch (error) {
      if (!(error instanceof Base64Error)) throw error;
      signatureFailures.push(["malformed", `signature ${index}: sig is not base64`]);
      continue;
    }
    let verified: CandidateKey | undefined;
    for (const candidate of candidates) {
      if (await ed25519Verify(candidate.key, sig, message)) {
        verified = candidate;
        break;
      }
    }
    if (verified) {
      verifiedKeyid = verified.kid;
      break;
    }
    signatureFailures.push([
      "bad-signature",
      `signature ${index} (kid ${JSON.stringify(signature.keyid)}) does not verify`,
    ]);
  }
  if (verifiedKeyid === null) for (const [reason, detail] of signatureFailures) fail(reason, detail);

  let statement: InTotoStatement | null = null;
  try {
    statement = parseStatement(JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(payload)));
  } catch {
    statement = null;
  }
  if (!statement) {
    fail("malformed", "payload is not an in-toto Statement (JSON with _type, subject[], predicateType)");
    return result(null, verifiedKeyid);
  }
  if (statement._type !== IN_TOTO_STATEMENT_TYPE) {
    fail("not-in-toto-statement", `_type is ${JSON.stringify(statement._type)}, not ${IN_TOTO_STATEMENT_TYPE}`);
  }
  const predicateType = options.predicateType === undefined ? KGEN_PREDICATE_TYPE : options.predicateType;
  if (predicateType !== null && statement.predicateType !== predicateType) {
    fail("unsupported-predicate-type", `predicateType is ${JSON.stringify(statement.predicateType)}`);
  }
  if (options.expectedSha256 !== undefined) {
    const expected = options.expectedSha256.toLowerCase();
    if (!statement.subject.some((subject) => subject.digest.sha256?.toLowerCase() === expected)) {
      fail("subject-mismatch", `no subject has sha256 ${expected}`);
    }
  }
  if (
    options.expectedPath !== undefined &&
    !statement.subject.some((subject) => subject.name === options.expectedPath)
  ) {
    fail("subject-mismatch", `no subject is named ${JSON.stringify(options.expectedPath)}`);
  }
  return result(statement, verifiedKeyid);
}
