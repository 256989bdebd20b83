import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { importJWK, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalJson } from "../../../shared/core/canonical-json";
import { bytesToBase64 } from "../../../shared/core/encoding";
import { generateSigningKey, type Signer, signerFromPrivateJwk } from "../../../shared/crypto/ed25519";
import {
  type ArtifactProvenance,
  attestArtifact,
  buildStatement,
  type DsseEnvelope,
  IN_TOTO_PAYLOAD_TYPE,
  type JsonWebKeySet,
  preAuthEncoding,
  verifyEnvelope,
} from "../../../shared/generate/attestation";

const H = (text: string | Uint8Array) => createHash("sha256").update(text).digest("hex");

const artifact = new TextEncoder().encode("export interface User {\n  name: string;\n}\n");

const provenance: ArtifactProvenance = {
  path: "src/types/User.ts",
  sha256: H(artifact),
  predicate: {
    graph: { name: "shop", version: 3, hash: H("graph") },
    generator: { name: "typescript" },
    template: { path: "types/entity.ts.njk", hash: H("template") },
    paramsHash: H("{}"),
    engineVersion: "kgen-edge/0.1.0",
    buildTime: "2026-11-20T10:00:00Z",
    mode: "write",
    dependencies: [
      { query: "SELECT ?s WHERE { ?s a ?c }", resultSha256: H("r2") },
      { query: "SELECT ?c WHERE { ?c a <C> }", resultSha256: H("r1") },
      { query: "SELECT ?s WHERE { ?s a ?c }", resultSha256: H("r2") },
    ],
  },
};

let signer: Signer;
let jwks: JsonWebKeySet;
let envelope: DsseEnvelope;

beforeAll(async () => {
  const key = await generateSigningKey();
  signer = await signerFromPrivateJwk(key.privateJwk);
  jwks = { keys: [key.publicJwk as JWK] };
  envelope = await attestArtifact(provenance, signer);
});

function withPayload(mutate: (payload: Buffer) => void): DsseEnvelope {
  const payload = Buffer.from(envelope.payload, "base64");
  mutate(payload);
  return { ...envelope, payload: payload.toString("base64") };
}

describe("DSSE pre-authentication encoding", () => {
  it("matches the DSSE spec example", () => {
    const pae = preAuthEncoding("http://example.com/HelloWorld", new TextEncoder().encode("hello world"));
    expect(new TextDecoder().decode(pae)).toBe("DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  });

  it("counts bytes, not characters", () => {
    const pae = preAuthEncoding("t", new TextEncoder().encode("é"));
    expect(Array.from(pae)).toEqual([...Buffer.from("DSSEv1 1 t 2 "), 0xc3, 0xa9]);
  });
});

describe("attestArtifact", () => {
  it("builds an in-toto Statement v1 with sorted, de-duplicated dependencies", () => {
    const statement = buildStatement(provenance);
    expect(statement._type).toBe("https://in-toto.io/Statement/v1");
    expect(statement.subject).toEqual([{ name: "src/types/User.ts", digest: { sha256: H(artifact) } }]);
    expect(statement.predicateType).toBe("https://kgen.dev/provenance/v1");
    expect(statement.predicate.dependencies).toEqual([
      { query: "SELECT ?c WHERE { ?c a <C> }", resultSha256: H("r1") },
      { query: "SELECT ?s WHERE { ?s a ?c }", resultSha256: H("r2") },
    ]);
    expect(Buffer.from(envelope.payload, "base64").toString()).toBe(canonicalJson(statement));
  });

  it("is reproducible: same provenance and key, same envelope bytes", async () => {
    expect(JSON.stringify(await attestArtifact(provenance, signer))).toBe(JSON.stringify(envelope));
  });

  it("has the DSSE envelope shape with a signature node:crypto verifies over the PAE", () => {
    expect(envelope.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
    expect(envelope.signatures).toHaveLength(1);
    expect(envelope.signatures[0]?.keyid).toBe(signer.keyid);
    const jwk = jwks.keys[0] as JWK;
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x as string }, format: "jwk" });
    const pae = preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload, "base64"));
    expect(nodeVerify(null, pae, publicKey, Buffer.from(envelope.signatures[0]?.sig as string, "base64"))).toBe(true);
  });
});

describe("verifyEnvelope", () => {
  it("accepts the untouched envelope and artifact", async () => {
    const result = await verifyEnvelope(envelope, jwks, {
      expectedSha256: H(artifact),
      expectedPath: "src/types/User.ts",
    });
    expect(result).toMatchObject({ valid: true, reasons: [], keyid: signer.keyid });
    expect(result.statement).toEqual(buildStatement(provenance));
  });

  it("rejects one changed byte in the payload (bad-signature)", async () => {
    const tampered = withPayload((payload) => {
      const at = payload.indexOf("kgen-edge/0.1.0") + "kgen-edge/0.1.".length;
      payload[at] = "1".charCodeAt(0);
    });
    const result = await verifyEnvelope(tampered, jwks, { expectedSha256: H(artifact) });
    expect(result.valid).toBe(false);
    expect(result.reasons).toEqual(["bad-signature"]);
    expect(result.statement?.predicate.engineVersion).toBe("kgen-edge/0.1.1");
  });

  it("rejects one changed byte in the artifact (subject-mismatch)", async () => {
    const changed = Uint8Array.from(artifact);
    changed[10] = (changed[10] as number) ^ 0x20;
    const result = await verifyEnvelope(envelope, jwks, { expectedSha256: H(changed) });
    expect(result).toMatchObject({ valid: false, reasons: ["subject-mismatch"] });
    expect((await verifyEnvelope(envelope, jwks, { expectedPath: "src/other.ts" })).reasons).toEqual([
      "subject-mismatch",
    ]);
  });

  it("rejects a changed signature byte and an unknown key", async () => {
    const sig = Buffer.from(envelope.signatures[0]?.sig as string, "base64");
    sig[0] = (sig[0] as number) ^ 1;
    const badSig = { ...envelope, signatures: [{ keyid: signer.keyid, sig: sig.toString("base64") }] };
    expect((await verifyEnvelope(badSig, jwks)).reasons).toEqual(["bad-signature"]);
    const other = await generateSigningKey();
    expect((await verifyEnvelope(envelope, { keys: [other.publicJwk as JWK] })).reasons).toEqual(["unknown-key"]);
    expect((await verifyEnvelope(envelope, { keys: [] })).reasons).toEqual(["unknown-key"]);
    // Right kid, wrong key material: the signature check still catches it.
    const forged = { keys: [{ ...(other.publicJwk as JWK), kid: signer.keyid }] };
    expect((await verifyEnvelope(envelope, forged)).reasons).toEqual(["bad-signature"]);
  });

  it("binds the payload type into the signature", async () => {
    const result = await verifyEnvelope({ ...envelope, payloadType: "application/json" }, jwks);
    expect(result.reasons).toEqual(["unsupported-payload-type", "bad-signature"]);
  });

  it("verifies with a rotated JWKS holding the old key, and with an empty keyid", async () => {
    const newer = await generateSigningKey();
    const rotated = { keys: [newer.publicJwk as JWK, ...jwks.keys] };
    expect((await verifyEnvelope(envelope, rotated)).valid).toBe(true);
    const anonymous = { ...envelope, signatures: [{ keyid: "", sig: envelope.signatures[0]?.sig as string }] };
    expect((await verifyEnvelope(anonymous, rotated)).valid).toBe(true);
  });

  it("reports malformed envelopes and payloads without throwing", async () => {
    for (const bad of [null, "x", {}, { ...envelope, signatures: [] }, { ...envelope, payload: "***" }]) {
      const result = await verifyEnvelope(bad, jwks);
      expect(result).toMatchObject({ valid: false, statement: null });
      expect(result.reasons).toContain("malformed");
    }
    const notJson = new TextEncoder().encode("not json");
    const signed = {
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: bytesToBase64(notJson),
      signatures: [
        { keyid: signer.keyid, sig: bytesToBase64(await signer.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, notJson))) },
      ],
    };
    expect((await verifyEnvelope(signed, jwks)).reasons).toEqual(["malformed"]);
  });

  it("flags statements of another type or predicate", async () => {
    const statement = { ...buildStatement(provenance), _type: "https://in-toto.io/Statement/v0.1", predicateType: "x" };
    const payload = new TextEncoder().encode(JSON.stringify(statement));
    const sig = bytesToBase64(await signer.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload)));
    const signed = {
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: bytesToBase64(payload),
      signatures: [{ keyid: signer.keyid, sig }],
    };
    expect((await verifyEnvelope(signed, jwks)).reasons).toEqual([
      "not-in-toto-statement",
      "unsupported-predicate-type",
    ]);
    expect((await verifyEnvelope(signed, jwks, { predicateType: null })).reasons).toEqual(["not-in-toto-statement"]);
  });
});

describe("verification with nothing but jose and the JWKS (the README snippet)", () => {
  // Deliberately independent of shared/: this is what a user outside the platform writes.
  async function verifyWithJose(env: DsseEnvelope, keySet: { keys: JWK[] }, artifactBytes: Uint8Array) {
    const payload = Uint8Array.from(atob(env.payload), (c) => c.charCodeAt(0));
    const enc = new TextEncoder();
    const type = enc.encode(env.payloadType);
    const pae = new Uint8Array([
      ...enc.encode(`DSSEv1 ${type.length} `),
      ...type,
      ...enc.encode(` ${payload.length} `),
      ...payload,
    ]);
    const signature = env.signatures[0] as { keyid: string; sig: string };
    const jwk = keySet.keys.find((k) => k.kid === signature.keyid);
    if (!jwk) return false;
    const key = (await importJWK(jwk, "EdDSA")) as CryptoKey;
    const sig = Uint8Array.from(atob(signature.sig), (c) => c.charCodeAt(0));
    if (!(await crypto.subtle.verify("Ed25519", key, sig, pae))) return false;
    const statement = JSON.parse(new TextDecoder().decode(payload));
    const digest = Buffer.from(await crypto.subtle.digest("SHA-256", artifactBytes)).toString("hex");
    return statement.subject.some((s: { digest: { sha256: string } }) => s.digest.sha256 === digest);
  }

  it("accepts the real envelope and refuses tampering", async () => {
    expect(await verifyWithJose(envelope, jwks as { keys: JWK[] }, artifact)).toBe(true);
    const changed = Uint8Array.from(artifact);
    changed[0] = (changed[0] as number) ^ 1;
    expect(await verifyWithJose(envelope, jwks as { keys: JWK[] }, changed)).toBe(false);
    const tampered = withPayload((payload) => {
      payload[payload.length - 3] = (payload[payload.length - 3] as number) ^ 1;
    });
    expect(await verifyWithJose(tampered, jwks as { keys: JWK[] }, artifact)).toBe(false);
  });
});
