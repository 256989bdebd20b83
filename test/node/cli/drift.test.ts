import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../shared/core/sha256";
import { jsonOf, runKgen } from "./run-cli";
import { shopProject } from "./shop-project";

const REGISTRY_TEMPLATE =
  '---\nto: registry.ts\ninject: true\nafter: "// entities"\nsparql: "PREFIX kg: <https://kgen.dev/vocab#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?name WHERE { ?iri a kg:Entity ; rdfs:label ?name } ORDER BY ?name"\n---\n{% for r in rows %}  "{{ r.name | pascalCase }}",\n{% endfor %}';

interface DriftJson {
  status: string;
  exitCode: number;
  summary: { expected: number; matched: number; modified: number; missing: number };
  modified: { path: string; reason: string; expectedSha256: string; actualSha256: string; diff?: string }[];
  missing: string[];
  lockChanged: boolean;
  lockHash: { expected: string; actual: string | null };
}

/** A copy of examples/shop writing into `out/`, generated once (keys, files, lock). */
function generatedShop(prepare: (root: string) => void = () => {}): { root: string; written: string[] } {
  const root = shopProject({}, "kgen-drift-");
  prepare(root);
  expect(runKgen(["keys", "init"], { cwd: root }).status).toBe(0);
  const generated = runKgen(["--json", "generate"], { cwd: root });
  expect(generated.status).toBe(0);
  return { root, written: (jsonOf(generated) as { written: string[] }).written };
}

function drift(root: string): { status: number | null; report: DriftJson } {
  const run = runKgen(["--json", "drift"], { cwd: root });
  return { status: run.status, report: jsonOf(run) as unknown as DriftJson };
}

/** The shop project with an inject artifact into out/registry.ts, generated once. */
function shopWithRegistry() {
  return generatedShop((root) => {
    mkdirSync(join(root, "out"), { recursive: true });
    writeFileSync(join(root, "out/registry.ts"), "export const entities = [\n  // entities\n];\n");
    writeFileSync(join(root, "generator/registry.njk"), REGISTRY_TEMPLATE);
  });
}

describe("kgen drift", { timeout: 120_000 }, () => {
  it("is clean right after generate: exit 0, every file matched, the lock unchanged", () => {
    const { root, written } = generatedShop();
    const { status, report } = drift(root);
    expect(status).toBe(0);
    expect(report).toEqual({
      status: "clean",
      exitCode: 0,
      summary: { expected: written.length, matched: written.length, modified: 0, missing: 0 },
      modified: [],
      missing: [],
      lockChanged: false,
      lockHash: { expected: report.lockHash.expected, actual: report.lockHash.expected },
    });
    expect(report.lockHash.expected).toMatch(/^[0-9a-f]{64}$/);
    const human = runKgen(["drift"], { cwd: root });
    expect(human.status).toBe(0);
    expect(human.stdout).toContain(`clean: ${written.length} of ${written.length} file(s) match`);
  });

  it("reports an edited file as modified with a diff of the edit, exit 3", async () => {
    const { root, written } = generatedShop();
    const path = written[0] as string;
    const original = readFileSync(join(root, "out", path), "utf8");
    const edited = `${original}// hand edit\n`;
    writeFileSync(join(root, "out", path), edited);
    const { status, report } = drift(root);
    expect(status).toBe(3);
    expect(report.status).toBe("drift");
    expect(report.exitCode).toBe(3);
    expect(report.summary).toEqual({ expected: written.length, matched: written.length - 1, modified: 1, missing: 0 });
    expect(report.lockChanged).toBe(false);
    const [file] = report.modified;
    expect(file).toMatchObject({ path, reason: "content" });
    expect(file?.expectedSha256).toBe(await sha256Hex(original));
    expect(file?.actualSha256).toBe(await sha256Hex(edited));
    expect(file?.diff).toContain(`--- expected/${path}`);
    expect(file?.diff).toContain(`+++ actual/${path}`);
    expect(file?.diff).toContain("+// hand edit");
    const human = runKgen(["drift"], { cwd: root });
    expect(human.status).toBe(3);
    expect(human.stdout).toContain("1 modified");
    expect(human.stdout).toContain(`~ ${path} (content)`);
    expect(human.stdout).toContain("+// hand edit");
  });

  it("reports a deleted file as missing, exit 3", () => {
    const { root, written } = generatedShop();
    const path = written[1] as string;
    rmSync(join(root, "out", path));
    const { status, report } = drift(root);
    expect(status).toBe(3);
    expect(report.missing).toEqual([path]);
    expect(report.modified).toEqual([]);
    expect(report.summary.missing).toBe(1);
    expect(runKgen(["drift"], { cwd: root }).stdout).toContain(`- ${path} (missing)`);
  });

  it("reports CRLF line endings or a lost final newline as line-endings drift, never as clean", () => {
    const { root, written } = generatedShop();
    const [crlf, trimmed] = written as [string, string];
    const original = readFileSync(join(root, "out", crlf), "utf8");
    expect(original).toContain("\n");
    writeFileSync(join(root, "out", crlf), original.replace(/\n/g, "\r\n"));
    writeFileSync(join(root, "out", trimmed), readFileSync(join(root, "out", trimmed), "utf8").replace(/\n+$/, ""));
    const { status, report } = drift(root);
    expect(status).toBe(3);
    expect(report.modified.map(({ path, reason }) => ({ path, reason }))).toEqual(
      [
        { path: crlf, reason: "line-endings" },
        { path: trimmed, reason: "line-endings" },
      ].sort((a, b) => written.indexOf(a.path) - written.indexOf(b.path)),
    );
  });

  it("ignores edits outside an injected block and reports edits inside it", () => {
    const { root, written } = shopWithRegistry();
    expect(written).toContain("registry.ts");
    const file = join(root, "out/registry.ts");
    const generated = readFileSync(file, "utf8");
    writeFileSync(file, `// a comment of the user's\n${generated}export const more = 1;\n`);
    expect(drift(root)).toMatchObject({ status: 0, report: { status: "clean" } });

    writeFileSync(file, readFileSync(file, "utf8").replace('"Order",', '"Orders",'));
    const { status, report } = drift(root);
    expect(status).toBe(3);
    expect(report.modified).toHaveLength(1);
    expect(report.modified[0]).toMatchObject({ path: "registry.ts", reason: "content" });
    expect(report.modified[0]?.diff).toContain('-  "Order",');
    expect(report.modified[0]?.diff).toContain('  "Orders",');
  });

  it("reports CRLF line endings around an injected or appended block as line-endings drift", () => {
    const { root, written } = generatedShop((project) => {
      mkdirSync(join(project, "out"), { recursive: true });
      writeFileSync(join(project, "out/registry.ts"), "export const entities = [\n  // entities\n];\n");
      writeFileSync(join(project, "generator/registry.njk"), REGISTRY_TEMPLATE);
      writeFileSync(join(project, "out/notes.txt"), "user notes\n");
      writeFileSync(
        join(project, "generator/footer.njk"),
        "---\nto: notes.txt\nappend: true\n---\n// generated footer\n",
      );
    });
    expect(written).toEqual(expect.arrayContaining(["registry.ts", "notes.txt"]));
    expect(drift(root).status).toBe(0);
    for (const name of ["registry.ts", "notes.txt"]) {
      const file = join(root, "out", name);
      writeFileSync(file, readFileSync(file, "utf8").replace(/\n/g, "\r\n"));
    }
    const { status, report } = drift(root);
    expect(status).toBe(3);
    expect(
      report.modified.map(({ path, reason }) => ({ path, reason })).sort((a, b) => (a.path < b.path ? -1 : 1)),
    ).toEqual([
      { path: "notes.txt", reason: "line-endings" },
      { path: "registry.ts", reason: "line-endings" },
    ]);
  });

  it("reports an injected block whose marker line is gone as marker-missing", () => {
    const { root } = shopWithRegistry();
    const file = join(root, "out/registry.ts");
    writeFileSync(file, "export const entities = [];\n");
    const { status, report } = drift(root);
    expect(status).toBe(3);
    expect(report.modified).toEqual([expect.objectContaining({ path: "registry.ts", reason: "marker-missing" })]);
  });

  it("reports a graph changed since generate as lockChanged with both hashes, exit 3", () => {
    const { root } = generatedShop();
    const before = drift(root).report.lockHash.expected;
    writeFileSync(
      join(root, "model.ttl"),
      `${readFileSync(join(root, "model.ttl"), "utf8")}\n<urn:extra> <urn:p> "changed" .\n`,
    );
    const { status, report } = drift(root);
    expect(status).toBe(3);
    expect(report.lockChanged).toBe(true);
    expect(report.lockHash.actual).toBe(before);
    expect(report.lockHash.expected).not.toBe(before);
    expect(runKgen(["drift"], { cwd: root }).stdout).toContain("lock changed");
  });

  it("reports every artifact missing and no lock change before the first generate", () => {
    const root = shopProject({}, "kgen-drift-");
    const { status, report } = drift(root);
    expect(status).toBe(3);
    expect(report.summary.matched).toBe(0);
    expect(report.missing.length).toBe(report.summary.expected);
    expect(report.lockChanged).toBe(false);
    expect(report.lockHash.actual).toBeNull();
  });

  it("fails with exit 1 outside a project", () => {
    const root = mkdtempSync(join(tmpdir(), "kgen-drift-empty-"));
    const run = runKgen(["drift"], { cwd: root });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("kgen.config.json");
    const json = runKgen(["--json", "drift"], { cwd: root });
    expect(json.status).toBe(1);
    expect(jsonOf(json)).toMatchObject({ exitCode: 1 });
  });

  it("fails with exit 1 on a template error and on an invalid lock file", () => {
    const { root } = generatedShop();
    writeFileSync(join(root, "kgen.lock.json"), "{not json");
    const badLock = runKgen(["--json", "drift"], { cwd: root });
    expect(badLock.status).toBe(1);
    expect(jsonOf(badLock)).toMatchObject({ exitCode: 1, hint: "run `kgen generate` to write it again" });

    writeFileSync(join(root, "generator/broken.njk"), "---\nto: broken.txt\n---\n{% if %}\n");
    const broken = runKgen(["drift"], { cwd: root });
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain("broken.njk");
  });

  it("fails with exit 1 for an unknown generator", () => {
    const { root } = generatedShop();
    const run = runKgen(["drift", "--generator", "nope"], { cwd: root });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("no generator named nope");
  });
});
