import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import type { JWK } from "jose";
import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../../shared/core/encoding";
import { toPublicJwk } from "../../../shared/crypto/ed25519";
import { preAuthEncoding } from "../../../shared/generate/attestation";
import { explainEnvelope, generateFromLock } from "../../../shared/generate/generate";
import { LockError } from "../../../shared/generate/lock";
import {
  GOLDEN_GENERATION,
  GOLDEN_PRIVATE_JWK,
  GOLDEN_QUERY,
  goldenGeneration,
  tinyEngine,
} from "../../fixtures/generate-golden";

const H = (text: string | Uint8Array) => createHash("sha256").update(text).digest("hex");
const jwks = {
  keys: [{ ...toPublicJwk(GOLDEN_PRIVATE_JWK), kid: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" } as JWK],
};

describe("generateFromLock", () => {
  it("reproduces the golden artifacts and signatures (also asserted in workerd)", async () => {
    const { result } = await goldenGeneration();
    expect(result.lockHash).toBe(GOLDEN_GENERATION.lockHash);
    expect(
      result.artifacts.map((artifact) => ({
        path: artifact.path,
        sha256: artifact.sha256,
        sig: artifact.envelope?.signatures[0]?.sig,
      })),
    ).toEqual(GOLDEN_GENERATION.artifacts);
    expect(result.artifacts[0]?.content).toBe(
      "# Customer\n\nIRI: http://ex.org/Customer\nBuilt 2026-11-20T10:00:00Z for @shop/docs\n",
    );
    expect(result.artifacts[2]?.mode).toBe("append");
  });

  it("signs statements that name the lock, the template and the query results", async () => {
    const { result, lock, rows } = await goldenGeneration();
    const artifact = result.artifacts[0];
    const statement = JSON.parse(Buffer.from(artifact?.envelope?.payload as string, "base64").toString());
    expect(statement.subject).toEqual([
      { name: "docs/Customer.md", digest: { sha256: H(artifact?.content as string) } },
    ]);
    expect(statement.predicate).toMatchObject({
      graph: lock.graph,
      generator: { name: "docs" },
      template: { path: "entity.md.njk", hash: lock.generator.templates["entity.md.njk"] },
      paramsHash: lock.paramsHash,
      engineVersion: "kgen-edge/0.1.0",
      buildTime: "2026-11-20T10:00:00Z",
      mode: "write",
      lockHash: result.lockHash,
      dependencies: [
        { query: GOLDEN_QUERY, resultSha256: H(JSON.stringify(rows.map(({ iri, name }) => ({ iri, name })))) },
      ],
    });
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: GOLDEN_PRIVATE_JWK.x }, format: "jwk" });
    const pae = preAuthEncoding(
      "application/vnd.in-toto+json",
      Buffer.from(artifact?.envelope?.payload as string, "base64"),
    );
    expect(nodeVerify(null, pae, key, Buffer.from(artifact?.envelope?.signatures[0]?.sig as string, "base64"))).toBe(
      true,
    );
  });

  it("refuses templates or params that differ from the lock", async () => {
    const { lock, templates, params, rows } = await goldenGeneration();
    const deps = { ...tinyEngine, runQuery: () => rows };
    const changed = templates.map((template, i) =>
      i === 0 ? { ...template, source: `${template.source} ` } : template,
    );
    await expect(generateFromLock({ lock, templates: changed, params, deps })).rejects.toThrow(/source hashes to/);
    const rehashed = await Promise.all(changed.map(async (t) => ({ ...t, hash: H(t.source) })));
    await expect(generateFromLock({ lock, templates: rehashed, params, deps })).rejects.toThrow(/lock pins/);
    await expect(generateFromLock({ lock, templates: templates.slice(1), params, deps })).rejects.toThrow(/missing/);
    await expect(generateFromLock({ lock, templates, params: { package: "other" }, deps })).rejects.toBeInstanceOf(
      LockError,
    );
  });

  it("plans without signing when no signer is given (dry run)", async () => {
    const { lock, templates, params, rows } = await goldenGeneration();
    const dry = await generateFromLock({ lock, templates, params, deps: { ...tinyEngine, runQuery: () => rows } });
    expect(dry.artifacts.map((artifact) => [artifact.sha256, artifact.envelope])).toEqual(
      GOLDEN_GENERATION.artifacts.map((artifact) => [artifact.sha256, null]),
    );
  });
});

describe("explainEnvelope", () => {
  it("gives the verified provenance readably", async () => {
    const { result } = await goldenGeneration();
    const artifact = result.artifacts[0];
    const explanation = await explainEnvelope(artifact?.envelope, jwks, { expectedSha256: artifact?.sha256 });
    expect(explanation).toMatchObject({
      valid: true,
      signedBy: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
      artifact: { path: "docs/Customer.md", sha256: artifact?.sha256 },
      template: { path: "entity.md.njk" },
      generator: "docs",
      mode: "write",
      lockHash: result.lockHash,
    });
    expect(explanation.summary[0]).toBe("signature valid (key kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k)");
    const { lock } = await goldenGeneration();
    expect(explanation.summary).toContain(`graph shop version 1 (${lock.graph.hash})`);
    expect(explanation.summary).toContain(`artifact docs/Customer.md sha256:${artifact?.sha256}`);
    expect(explanation.summary.at(-1)).toMatch(/^read "SELECT \?name/);
  });

  it("says why when it is not valid", async () => {
    const { result } = await goldenGeneration();
    const envelope = result.artifacts[0]?.envelope;
    const payload = Buffer.from(envelope?.payload as string, "base64");
    payload[payload.indexOf("Customer")] = "K".charCodeAt(0);
    const tampered = { ...envelope, payload: bytesToBase64(payload) };
    const explanation = await explainEnvelope(tampered, jwks);
    expect(explanation.valid).toBe(false);
    expect(explanation.summary[0]).toBe("NOT VALID: bad-signature");
    expect((await explainEnvelope("garbage", jwks)).summary).toEqual(["NOT VALID: malformed"]);
  });
});
