import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonOf, runKgen } from "./run-cli";

const folder = () => mkdtempSync(join(tmpdir(), "kgen-templates-"));

/** A fresh project scaffolded by `kgen init`. */
function scaffold(): string {
  const root = join(folder(), "project");
  const run = runKgen(["--json", "init", root], { cwd: folder() });
  expect(run.status, run.stderr).toBe(0);
  return root;
}

const SHOP_TEMPLATES = ["_header.njk", "docs.md.njk", "index.ts.njk", "openapi.yaml.njk", "types.ts.njk"];

describe("kgen init", { timeout: 60_000 }, () => {
  it("scaffolds the shop example with a config kgen accepts", () => {
    const root = join(folder(), "new");
    const run = runKgen(["--json", "init", root], { cwd: folder() });
    expect(run.status, run.stderr).toBe(0);
    expect(jsonOf(run)).toEqual({ root, created: ["kgen.config.json", "model.ttl", "generator"] });
    expect(readFileSync(join(root, "model.ttl"), "utf8")).toBe(
      readFileSync(new URL("../../../examples/shop/model.ttl", import.meta.url), "utf8"),
    );
    expect(readdirSync(join(root, "generator")).sort()).toEqual(SHOP_TEMPLATES);
    const config = JSON.parse(readFileSync(join(root, "kgen.config.json"), "utf8"));
    expect(config.graphs).toEqual([{ name: "shop", files: ["model.ttl"] }]);
    expect(config.generators).toEqual([{ name: "shop", path: "generator" }]);
  });

  it("scaffolds into the current folder without an argument, in human words", () => {
    const root = folder();
    const run = runKgen(["init"], { cwd: root });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`created a project in ${root}`);
    expect(existsSync(join(root, "kgen.config.json"))).toBe(true);
  });

  it("refuses a folder that already has a project (exit 1, hint), changing nothing", () => {
    const root = scaffold();
    writeFileSync(join(root, "model.ttl"), "# mine\n");
    const run = runKgen(["init", root], { cwd: folder() });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("already has a kgen.config.json");
    expect(run.stderr).toContain("hint: run `kgen init <new-folder>`");
    expect(readFileSync(join(root, "model.ttl"), "utf8")).toBe("# mine\n");
  });

  it("refuses to overwrite the example's files in a folder without a config", () => {
    const root = folder();
    mkdirSync(join(root, "generator"));
    const run = runKgen(["--json", "init"], { cwd: root });
    expect(run.status).toBe(1);
    expect(jsonOf(run)).toMatchObject({ error: expect.stringContaining("already has generator"), exitCode: 1 });
    expect(existsSync(join(root, "kgen.config.json"))).toBe(false);
    expect(existsSync(join(root, "model.ttl"))).toBe(false);
  });
});

describe("kgen templates ls", { timeout: 60_000 }, () => {
  it("lists every template with its size and the platform's sha256 of its source", () => {
    const root = scaffold();
    const run = runKgen(["--json", "templates", "ls"], { cwd: root });
    expect(run.status, run.stderr).toBe(0);
    const { templates } = jsonOf(run) as { templates: Array<Record<string, unknown>> };
    expect(templates.map((t) => t.path)).toEqual(SHOP_TEMPLATES);
    for (const template of templates) {
      const bytes = readFileSync(join(root, "generator", template.path as string));
      expect(template).toEqual({
        generator: "shop",
        path: template.path,
        size: bytes.byteLength,
        sha256: createHash("sha256").update(bytes).digest("hex"),
      });
    }
  });

  it("hashes the source as the platform stores it: a leading BOM is not part of it", () => {
    const root = scaffold();
    mkdirSync(join(root, "generator", "zz"));
    writeFileSync(join(root, "generator", "zz", "bom.njk"), "\uFEFFhello\n");
    writeFileSync(join(root, "generator", ".hidden"), "not a template");
    const { templates } = jsonOf(runKgen(["--json", "templates", "ls"], { cwd: root })) as {
      templates: Array<Record<string, unknown>>;
    };
    expect(templates.map((t) => t.path)).toEqual([...SHOP_TEMPLATES, "zz/bom.njk"]);
    expect(templates.at(-1)?.sha256).toBe(createHash("sha256").update("hello\n").digest("hex"));
  });

  it("prints one line per template without --json", () => {
    const run = runKgen(["templates", "ls", "--generator", "shop"], { cwd: scaffold() });
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(SHOP_TEMPLATES.length);
    expect(run.stdout).toContain("shop/types.ts.njk");
  });

  it("fails with a hint for an unknown generator, outside a project, and for a missing generator folder", () => {
    const root = scaffold();
    const unknown = runKgen(["templates", "ls", "--generator", "nope"], { cwd: root });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("no generator named nope");
    expect(unknown.stderr).toContain("hint: the generators are: shop");

    const outside = runKgen(["templates", "ls"], { cwd: folder() });
    expect(outside.status).toBe(1);
    expect(outside.stderr).toContain("hint: run `kgen init`");

    const config = JSON.parse(readFileSync(join(root, "kgen.config.json"), "utf8"));
    config.generators[0].path = "gone";
    writeFileSync(join(root, "kgen.config.json"), JSON.stringify(config));
    const missing = runKgen(["--json", "templates", "ls"], { cwd: root });
    expect(missing.status).toBe(1);
    expect(jsonOf(missing)).toMatchObject({ error: "generator shop: gone is not a folder" });
  });

  it("refuses a --generator option without its value (exit 2)", () => {
    expect(runKgen(["templates", "ls", "--generator"], { cwd: scaffold() }).status).toBe(2);
  });
});

describe("kgen templates show", { timeout: 60_000 }, () => {
  it("shows the parsed frontmatter, variables, includes, imports and macros", () => {
    const root = scaffold();
    const run = runKgen(["--json", "templates", "show", "shop/types.ts.njk"], { cwd: root });
    expect(run.status, run.stderr).toBe(0);
    const shown = jsonOf(run);
    expect(shown).toMatchObject({
      generator: "shop",
      path: "types.ts.njk",
      frontmatter: { to: "src/types/{{ entity.name | pascalCase }}.ts", foreach: "entity" },
      variables: ["entity"],
      globals: ["label", "sparql"],
      includes: ["_header.njk"],
      imports: [],
      macros: [],
    });
    expect((shown.frontmatter as { query: string }).query).toMatch(/^PREFIX kg:/);
  });

  it("shows imports and macros of a template that has them, in human words", () => {
    const root = scaffold();
    writeFileSync(
      join(root, "generator", "lib.njk"),
      '{% import "_macros.njk" as m %}{% from "_more.njk" import x %}{% macro greet(who) %}hi {{ who }}{% endmacro %}{{ greet(name) }}',
    );
    const run = runKgen(["templates", "show", "shop/lib.njk"], { cwd: root });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("imports: _macros.njk, _more.njk");
    expect(run.stdout).toContain("macros: greet");
    expect(run.stdout).toContain("variables: name");
  });

  it("fails with a hint for an unknown template or generator and a malformed name", () => {
    const root = scaffold();
    const unknown = runKgen(["--json", "templates", "show", "shop/nope.njk"], { cwd: root });
    expect(unknown.status).toBe(1);
    expect(jsonOf(unknown)).toEqual({
      error: "no template nope.njk in generator shop",
      hint: "run `kgen templates ls --generator shop`",
      exitCode: 1,
    });
    const generator = runKgen(["templates", "show", "nope/types.ts.njk"], { cwd: root });
    expect(generator.status).toBe(1);
    expect(generator.stderr).toContain("no generator named nope");
    const malformed = runKgen(["templates", "show", "types.ts.njk"], { cwd: root });
    expect(malformed.status).toBe(1);
    expect(malformed.stderr).toContain("hint: name it <generator>/<path>");
    const outside = runKgen(["templates", "show", "shop/../model.ttl"], { cwd: root });
    expect(outside.status).toBe(1);
  });

  it("points a template that does not parse at lint", () => {
    const root = scaffold();
    writeFileSync(join(root, "generator", "broken.njk"), "{% if %}");
    const run = runKgen(["templates", "show", "shop/broken.njk"], { cwd: root });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("hint: run `kgen templates lint --generator shop`");
  });

  it("exits 2 without the template argument", () => {
    const run = runKgen(["templates", "show"], { cwd: scaffold() });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("missing required argument");
  });
});

describe("kgen templates lint", { timeout: 60_000 }, () => {
  it("finds nothing in the scaffold (exit 0)", () => {
    const run = runKgen(["--json", "templates", "lint"], { cwd: scaffold() });
    expect(run.status, run.stdout).toBe(0);
    expect(jsonOf(run)).toEqual({ files: SHOP_TEMPLATES.length, problems: [] });
  });

  it("reports each kind of problem at its file, line and column", () => {
    const root = scaffold();
    const generator = join(root, "generator");
    mkdirSync(join(generator, "sub"));
    writeFileSync(
      join(generator, "sub", "bad.njk"),
      [
        "---",
        'to: "{{ nme }}.txt"',
        'sparql: "SELECT ?x WHERE { ?x ?p }"',
        "---",
        "hello {{ now() }} {{ title }}",
        "  {{ missing.field }} {{ [1,2] | random }}",
        "",
      ].join("\n"),
    );
    writeFileSync(join(generator, "syntax.njk"), "a\n  {{ x | }}\n");
    writeFileSync(join(generator, "frontmatter.njk"), "---\nto: out.txt\nlineAt: 0\n---\nbody\n");
    writeFileSync(join(generator, "latin1.njk"), Buffer.from([0x61, 0xe9, 0x0a]));
    const run = runKgen(["--json", "templates", "lint"], { cwd: root });
    expect(run.status).toBe(1);
    const report = jsonOf(run) as { files: number; problems: Array<Record<string, unknown>> };
    expect(report.files).toBe(SHOP_TEMPLATES.length + 4);
    const found = report.problems.map((p) => [p.file, p.line, p.column, p.severity, p.rule]);
    expect(found).toEqual([
      ["shop/frontmatter.njk", 3, 1, "error", "frontmatter"],
      ["shop/latin1.njk", 1, 1, "error", "encoding"],
      ["shop/sub/bad.njk", 2, 9, "error", "undefined-variable"],
      ["shop/sub/bad.njk", 3, 33, "error", "frontmatter-sparql"],
      ["shop/sub/bad.njk", 5, 10, "warning", "non-deterministic"],
      ["shop/sub/bad.njk", 6, 6, "error", "undefined-variable"],
      ["shop/sub/bad.njk", 6, 34, "warning", "non-deterministic"],
      ["shop/syntax.njk", 2, 10, "error", "syntax"],
    ]);
    expect(report.problems.find((p) => p.line === 2 && p.file === "shop/sub/bad.njk")?.message).toContain("nme");
  });

  it("exits 0 with warnings only, and prints file:line:column in human words", () => {
    const root = scaffold();
    writeFileSync(join(root, "generator", "stamp.njk"), "---\nto: stamp.txt\n---\n{{ random() }}\n");
    const run = runKgen(["templates", "lint"], { cwd: root });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("shop/stamp.njk:4:4  warning  random depends on the render seed");
    expect(run.stdout).toContain("6 templates, 0 errors, 1 warnings");
  });

  it("does not check the variables of partials, which render in their includer's context", () => {
    const root = scaffold();
    writeFileSync(join(root, "generator", "_partial.njk"), "{{ whatever }}\n");
    const run = runKgen(["--json", "templates", "lint", "--generator", "shop"], { cwd: root });
    expect(run.status).toBe(0);
    expect(jsonOf(run).problems).toEqual([]);
  });

  it("knows the project's params as defined variables", () => {
    const root = scaffold();
    writeFileSync(join(root, "generator", "p.njk"), "---\nto: p.txt\n---\n{{ owner }}\n");
    expect(runKgen(["templates", "lint"], { cwd: root }).status).toBe(1);
    const config = JSON.parse(readFileSync(join(root, "kgen.config.json"), "utf8"));
    config.params.owner = "me";
    writeFileSync(join(root, "kgen.config.json"), JSON.stringify(config));
    expect(runKgen(["templates", "lint"], { cwd: root }).status).toBe(0);
  });
});
