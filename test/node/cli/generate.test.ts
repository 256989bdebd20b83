import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeSqlDatabase } from "../../../cli/node-sql-database";
import { OFFLINE_VERSION_CREATED_AT } from "../../../cli/offline-engine";
import { GraphService } from "../../../durable-objects/tenant/graph-service";
import { JobService } from "../../../durable-objects/tenant/job-service";
import { TENANT_SCHEMA } from "../../../durable-objects/tenant/tenant-schema";
import { sha256Hex } from "../../../shared/core/sha256";
import { verifyEnvelope } from "../../../shared/generate/attestation";
import { computeLock, deriveBuildTime, lockHash, serializeLock } from "../../../shared/generate/lock";
import { applySchemaMigrations } from "../../../shared/sql/migrations";
import { ENGINE_VERSION } from "../../../shared/version";
import { jsonOf, runKgen } from "./run-cli";
import { shopProject } from "./shop-project";

function filesUnder(folder: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(folder)) return files;
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(relative(folder, full).split(sep).join("/"), readFileSync(full, "utf8"));
  }
  return files;
}

/** The platform's engine in this process, the way the generate bench runs it: graph upload, lock, JobService. */
async function platformRender(root: string) {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, TENANT_SCHEMA);
  const graphs = new GraphService(db);
  const { version } = await graphs.ingest({
    name: "shop",
    mediaType: "text/turtle",
    body: new Blob([readFileSync(join(root, "model.ttl"))]).stream(),
    createdAt: OFFLINE_VERSION_CREATED_AT,
    tripleLimit: 1_000_000,
    maxBytes: Number.POSITIVE_INFINITY,
  });
  const templates = [];
  for (const [path, source] of [...filesUnder(join(root, "generator"))].sort(([a], [b]) => (a < b ? -1 : 1))) {
    templates.push({ path, source, hash: await sha256Hex(source) });
  }
  const lock = await computeLock({
    graph: { name: "shop", version: version.version, hash: version.hash as string },
    generator: { name: "shop", templates: templates.map(({ path, hash }) => ({ path, hash })) },
    params: {},
    engineVersion: ENGINE_VERSION,
    buildTime: deriveBuildTime({ graphVersionCreatedAt: version.createdAt }),
  });
  const rendered = await new JobService(graphs).renderAll({
    lock,
    params: {},
    templates,
    limits: { maxRows: 1_000_000, maxSteps: 1e9 },
    maxArtifacts: 1_000_000,
  });
  return { lock, artifacts: rendered.artifacts };
}

describe("kgen keys init", { timeout: 120_000 }, () => {
  it("writes a private key readable by the owner only and a public JWKS, and never prints the private part", () => {
    const root = shopProject();
    const run = runKgen(["--json", "keys", "init"], { cwd: root });
    expect(run.status).toBe(0);
    const result = jsonOf(run) as { kid: string; publicJwk: Record<string, string> };
    const privateJwk = JSON.parse(readFileSync(join(root, ".kgen/signing-key.json"), "utf8"));
    expect(statSync(join(root, ".kgen/signing-key.json")).mode & 0o777).toBe(0o600);
    expect(privateJwk).toMatchObject({ kty: "OKP", crv: "Ed25519", kid: result.kid, alg: "EdDSA" });
    expect(run.stdout).not.toContain(privateJwk.d);
    expect(result.publicJwk).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: privateJwk.x,
      kid: result.kid,
      alg: "EdDSA",
      use: "sig",
    });
    expect(JSON.parse(readFileSync(join(root, ".kgen/jwks.json"), "utf8"))).toEqual({ keys: [result.publicJwk] });
  });

  it("refuses to replace a key without --force, and replaces it with --force", () => {
    const root = shopProject();
    const first = jsonOf(runKgen(["--json", "keys", "init"], { cwd: root }));
    const again = runKgen(["keys", "init"], { cwd: root });
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("already exists");
    expect(again.stderr).toContain("--force");
    expect(JSON.parse(readFileSync(join(root, ".kgen/jwks.json"), "utf8")).keys[0].kid).toBe(first.kid);
    const forced = runKgen(["--json", "keys", "init", "--force"], { cwd: root });
    expect(forced.status).toBe(0);
    expect(jsonOf(forced).kid).not.toBe(first.kid);
  });

  it("needs a project", () => {
    const run = runKgen(["keys", "init"], { cwd: mkdtempSync(join(tmpdir(), "kgen-empty-")) });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("no kgen.config.json");
  });
});

describe("kgen generate", { timeout: 120_000 }, () => {
  it("writes what the platform's engine renders, byte for byte, with the same lock and verifiable attestations", async () => {
    const root = shopProject();
    expect(runKgen(["keys", "init"], { cwd: root }).status).toBe(0);
    const run = runKgen(["--json", "generate"], { cwd: root });
    expect(run.status).toBe(0);
    const summary = jsonOf(run) as { written: string[]; unchanged: string[]; lockHash: string; skipped: unknown[] };

    const platform = await platformRender(root);
    const written = filesUnder(join(root, "out"));
    expect([...written.keys()].sort()).toEqual(platform.artifacts.map((artifact) => artifact.path).sort());
    for (const artifact of platform.artifacts) expect(written.get(artifact.path)).toBe(artifact.content);
    expect(summary.written.sort()).toEqual([...written.keys()].sort());
    expect(summary.unchanged).toEqual([]);
    expect(summary.skipped).toEqual([{ template: "_header.njk", reason: "no-to" }]);
    expect(summary.lockHash).toBe(await lockHash(platform.lock));
    expect(readFileSync(join(root, "kgen.lock.json"), "utf8")).toBe(serializeLock(platform.lock));

    const jwks = JSON.parse(readFileSync(join(root, ".kgen/jwks.json"), "utf8"));
    for (const artifact of platform.artifacts) {
      const envelope = JSON.parse(readFileSync(join(root, ".kgen/attestations", `${artifact.path}.dsse.json`), "utf8"));
      const verified = await verifyEnvelope(envelope, jwks, {
        expectedSha256: artifact.sha256,
        expectedPath: artifact.path,
      });
      expect(verified.reasons).toEqual([]);
      expect(verified.statement?.predicate.lockHash).toBe(summary.lockHash);
    }
  });

  it("reports everything unchanged on a second run and writes identical bytes", () => {
    const root = shopProject();
    runKgen(["keys", "init"], { cwd: root });
    expect(runKgen(["generate"], { cwd: root }).status).toBe(0);
    const first = filesUnder(root);
    const second = runKgen(["--json", "generate"], { cwd: root });
    expect(second.status).toBe(0);
    const summary = jsonOf(second) as { written: string[]; unchanged: string[] };
    expect(summary.written).toEqual([]);
    expect(summary.unchanged).toHaveLength(10);
    expect(filesUnder(root)).toEqual(first);
  });

  it("keeps the graph version and build time a lock pins for the same content (a pulled job), and only then", () => {
    const root = shopProject();
    runKgen(["keys", "init"], { cwd: root });
    expect(runKgen(["generate"], { cwd: root }).status).toBe(0);
    const lockFile = join(root, "kgen.lock.json");
    const lock = JSON.parse(readFileSync(lockFile, "utf8"));
    // What a platform job's lock looks like: version 7 of the same graph, uploaded at some moment.
    writeFileSync(
      lockFile,
      JSON.stringify({ ...lock, graph: { ...lock.graph, version: 7 }, buildTime: "2026-05-04T03:02:01Z" }),
    );
    const pinned = runKgen(["--json", "generate"], { cwd: root });
    expect(pinned.status, pinned.stderr).toBe(0);
    const pinnedLock = JSON.parse(readFileSync(lockFile, "utf8"));
    expect(pinnedLock).toMatchObject({ graph: { version: 7 }, buildTime: "2026-05-04T03:02:01Z" });
    expect((jsonOf(pinned) as { lockHash: string }).lockHash).toBe(
      createHash("sha256").update(readFileSync(lockFile)).digest("hex"),
    );
    expect(readFileSync(join(root, "out", "openapi.yaml"), "utf8")).toContain('version: "7"');

    writeFileSync(
      join(root, "model.ttl"),
      `${readFileSync(join(root, "model.ttl"), "utf8")}\n<urn:x> <urn:p> "changed" .\n`,
    );
    expect(runKgen(["generate"], { cwd: root }).status).toBe(0);
    expect(JSON.parse(readFileSync(lockFile, "utf8"))).toMatchObject({
      graph: { version: 1 },
      buildTime: "1970-01-01T00:00:00Z",
    });
  });

  it("reads templates as the platform stores them: a leading BOM is dropped, a file that is not UTF-8 is refused", () => {
    const root = shopProject();
    const plain = jsonOf(runKgen(["--json", "generate", "--dry-run"], { cwd: root })) as { lockHash: string };
    const template = join(root, "generator", "index.ts.njk");
    writeFileSync(template, `\uFEFF${readFileSync(template, "utf8")}`);
    const withBom = runKgen(["--json", "generate", "--dry-run"], { cwd: root });
    expect(withBom.status, withBom.stdout).toBe(0);
    expect(jsonOf(withBom)).toMatchObject({ lockHash: plain.lockHash });
    writeFileSync(template, Buffer.from([0x2d, 0x2d, 0x2d, 0x0a, 0xff, 0xfe, 0x0a]));
    const notUtf8 = runKgen(["generate", "--dry-run"], { cwd: root });
    expect(notUtf8.status).toBe(1);
    expect(notUtf8.stderr).toContain("error: template index.ts.njk is not UTF-8");
  });

  it("writes nothing with --dry-run, key or no key, and says what it would write", () => {
    const root = shopProject();
    const run = runKgen(["--json", "generate", "--dry-run"], { cwd: root });
    expect(run.status).toBe(0);
    expect((jsonOf(run) as { written: string[]; dryRun: boolean }).written).toHaveLength(10);
    expect(jsonOf(run).dryRun).toBe(true);
    expect(existsSync(join(root, "out"))).toBe(false);
    expect(existsSync(join(root, "kgen.lock.json"))).toBe(false);
    expect(existsSync(join(root, ".kgen"))).toBe(false);
    const human = runKgen(["generate", "--dry-run"], { cwd: root });
    expect(human.stdout).toContain("would write: 10");
  });

  it("refuses to run without a signing key, with a hint, and writes nothing", () => {
    const root = shopProject();
    const run = runKgen(["generate"], { cwd: root });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("no signing key");
    expect(run.stderr).toContain("kgen keys init");
    expect(existsSync(join(root, "out"))).toBe(false);
    const json = runKgen(["--json", "generate"], { cwd: root });
    expect(jsonOf(json)).toMatchObject({ exitCode: 1, hint: "run `kgen keys init` first" });
  });

  it("names the template and the line of a template error, exit 1, nothing written", () => {
    const root = shopProject();
    runKgen(["keys", "init"], { cwd: root });
    writeFileSync(join(root, "generator/broken.txt.njk"), "---\nto: broken.txt\n---\nfine\nstill fine\n{{ 1 + }}\n");
    const run = runKgen(["generate"], { cwd: root });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("broken.txt.njk line 6:");
    expect(existsSync(join(root, "out"))).toBe(false);
    expect(existsSync(join(root, "kgen.lock.json"))).toBe(false);
  });

  it("injects an artifact into an existing file in place, once", () => {
    const root = shopProject();
    runKgen(["keys", "init"], { cwd: root });
    mkdirSync(join(root, "out"), { recursive: true });
    writeFileSync(join(root, "out/registry.ts"), "export const entities = [\n  // entities\n];\n");
    writeFileSync(
      join(root, "generator/registry.njk"),
      '---\nto: registry.ts\ninject: true\nafter: "// entities"\nsparql: "PREFIX kg: <https://kgen.dev/vocab#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?name WHERE { ?iri a kg:Entity ; rdfs:label ?name } ORDER BY ?name"\n---\n{% for r in rows %}  "{{ r.name | pascalCase }}",\n{% endfor %}',
    );
    expect(runKgen(["generate"], { cwd: root }).status).toBe(0);
    const expected =
      'export const entities = [\n  // entities\n  "Customer",\n  "Order",\n  "OrderLine",\n  "Product",\n];\n';
    expect(readFileSync(join(root, "out/registry.ts"), "utf8")).toBe(expected);
    const again = jsonOf(runKgen(["--json", "generate"], { cwd: root })) as { unchanged: string[] };
    expect(again.unchanged).toContain("registry.ts");
    expect(readFileSync(join(root, "out/registry.ts"), "utf8")).toBe(expected);
  });

  it("fails before writing when an inject marker is missing", () => {
    const root = shopProject();
    runKgen(["keys", "init"], { cwd: root });
    writeFileSync(
      join(root, "generator/registry.njk"),
      '---\nto: registry.ts\ninject: true\nafter: "// nowhere"\n---\nx\n',
    );
    const run = runKgen(["generate"], { cwd: root });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("registry.njk");
    expect(existsSync(join(root, "out"))).toBe(false);
  });

  it("needs --generator when the config has several, and names the known ones for an unknown one", () => {
    const root = shopProject({
      generators: [
        { name: "shop", path: "generator" },
        { name: "other", path: "generator" },
      ],
    });
    runKgen(["keys", "init"], { cwd: root });
    const several = runKgen(["generate"], { cwd: root });
    expect(several.status).toBe(1);
    expect(several.stderr).toContain("--generator");
    const unknown = runKgen(["generate", "--generator", "nope"], { cwd: root });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("shop, other");
    expect(runKgen(["generate", "--generator", "other"], { cwd: root }).status).toBe(0);
  });

  it("merges several files of one graph", () => {
    const root = shopProject({ graphs: [{ name: "shop", files: ["model.ttl", "extra.ttl"] }] });
    writeFileSync(
      join(root, "extra.ttl"),
      '@prefix kg: <https://kgen.dev/vocab#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n<urn:x:Supplier> a kg:Entity ; rdfs:label "supplier" .\n',
    );
    runKgen(["keys", "init"], { cwd: root });
    expect(runKgen(["generate"], { cwd: root }).status).toBe(0);
    expect(readFileSync(join(root, "out/src/types/index.ts"), "utf8")).toContain('from "./Supplier"');
    expect(readFileSync(join(root, "out/src/types/index.ts"), "utf8")).toContain('from "./Customer"');
  });

  it("expands a glob pattern of graph files, and refuses one matching nothing", () => {
    const root = shopProject({ graphs: [{ name: "shop", files: ["*.ttl"] }] });
    writeFileSync(
      join(root, "supplier.ttl"),
      '@prefix kg: <https://kgen.dev/vocab#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n<urn:x:Supplier> a kg:Entity ; rdfs:label "supplier" .\n',
    );
    runKgen(["keys", "init"], { cwd: root });
    expect(runKgen(["generate"], { cwd: root }).status).toBe(0);
    expect(readFileSync(join(root, "out/src/types/index.ts"), "utf8")).toContain('from "./Supplier"');
    const none = shopProject({ graphs: [{ name: "shop", files: ["graphs/*.ttl"] }] });
    runKgen(["keys", "init"], { cwd: none });
    const run = runKgen(["generate"], { cwd: none });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("no file matches graphs/*.ttl");
  });

  it("reports unreadable and invalid graph files, exit 1", () => {
    const missing = shopProject({ graphs: [{ name: "shop", files: ["absent.ttl"] }] });
    runKgen(["keys", "init"], { cwd: missing });
    const run = runKgen(["generate"], { cwd: missing });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("absent.ttl");
    const broken = shopProject();
    runKgen(["keys", "init"], { cwd: broken });
    writeFileSync(join(broken, "model.ttl"), "<a> <b> .");
    const invalid = runKgen(["generate"], { cwd: broken });
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain("model.ttl");
    expect(existsSync(join(broken, "out"))).toBe(false);
  });

  it("refuses an artifact path that leaves the output folder", () => {
    const root = shopProject();
    runKgen(["keys", "init"], { cwd: root });
    writeFileSync(join(root, "generator/escape.njk"), "---\nto: ../../escaped.txt\n---\nx\n");
    const run = runKgen(["generate"], { cwd: root });
    expect(run.status).toBe(1);
    expect(existsSync(join(root, "out"))).toBe(false);
  });

  it("reports a damaged signing key", () => {
    const root = shopProject();
    mkdirSync(join(root, ".kgen"));
    writeFileSync(join(root, ".kgen/signing-key.json"), '{"kty":"RSA"}');
    const run = runKgen(["generate"], { cwd: root });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("kgen keys init --force");
  });
});
