import { createHash } from "node:crypto";
import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { createGraphGlobals, LABEL_PREDICATES, labelQuery } from "../../../shared/generate/graph-globals";
import { batchUnits, planJob } from "../../../shared/generate/plan";
import {
  type PlanDependencies,
  PlanError,
  type PlanTemplate,
  type QueryRows,
  TemplateUnitPipeline,
} from "../../../shared/generate/template-unit";
import type { ParsedTemplate } from "../../../shared/template/frontmatter/parse-frontmatter";
import { OutputPathError } from "../../../shared/template/output-path";

const H = (text: string) => createHash("sha256").update(text).digest("hex");

// Test doubles for the injected engine pieces: YAML frontmatter, nunjucks (compiled, Node),
// a query table keyed by query text, and the four skipIf forms.
function parseFrontmatter(source: string): ParsedTemplate {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(source);
  if (!match) return { frontmatter: {}, body: source, bodyLine: 1 };
  const frontmatter = parseYaml(match[1] as string) ?? {};
  if (typeof frontmatter.sparql === "string") frontmatter.query = frontmatter.sparql;
  return { frontmatter, body: source.slice(match[0].length), bodyLine: match[0].split("\n").length };
}

function evaluateSkipIf(expression: string, context: Record<string, unknown>): boolean {
  const lookup = (path: string) =>
    path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], context);
  const compare = /^\s*([\w.]+)\s*(==|!=)\s*(.*?)\s*$/.exec(expression);
  if (compare) {
    const equal = String(lookup(compare[1] as string) ?? "") === compare[3];
    return compare[2] === "==" ? equal : !equal;
  }
  const negate = expression.trim().startsWith("!");
  const value = Boolean(lookup(expression.trim().replace(/^!/, "")));
  return negate ? !value : value;
}

const RDFS_LABEL = LABEL_PREDICATES[0] as string;
const ENTITIES = "SELECT ?iri ?name ?abstract WHERE { ?iri a :Entity ; :name ?name ; :abstract ?abstract }";
const TABLE: Record<string, QueryRows> = {
  [ENTITIES]: [
    { name: "Customer", iri: "http://ex.org/Customer", abstract: "false" },
    { name: "Order", iri: "http://ex.org/Order", abstract: "false" },
    { name: "Thing", iri: "http://ex.org/Thing", abstract: "true" },
  ],
  [labelQuery("http://ex.org/Customer")]: [{ p: RDFS_LABEL, label: "A customer" }],
  [labelQuery("http://ex.org/Order")]: [{ p: RDFS_LABEL, label: "An order" }],
  [labelQuery("http://ex.org/Thing")]: [{ p: RDFS_LABEL, label: "A thing" }],
};

function makeDeps(calls: string[] = [], options: { async?: boolean } = {}): PlanDependencies {
  const runQuery = (sparql: string) => {
    calls.push(sparql);
    const rows = TABLE[sparql];
    if (!rows) throw new Error(`unknown query ${sparql}`);
    return options.async ? Promise.resolve(structuredClone(rows)) : structuredClone(rows);
  };
  return {
    parseFrontmatter: options.async ? async (source) => parseFrontmatter(source) : parseFrontmatter,
    runQuery,
    evaluateSkipIf,
    render(source, context, helpers) {
      const env = new nunjucks.Environment(null, { autoescape: false });
      const globals = createGraphGlobals(helpers.query);
      env.addGlobal("label", (iri: string) => {
        const label = globals.label(iri);
        if (label instanceof Promise) throw new Error("sync engine got an async query");
        return label;
      });
      const output = env.renderString(source, context);
      return options.async ? Promise.resolve(output) : output;
    },
  };
}

const entityTemplate: PlanTemplate = {
  path: "types/entity.ts.njk",
  hash: H("entity"),
  source: [
    "---",
    `sparql: "${ENTITIES}"`,
    "foreach: entity",
    'to: "src/{{ entity.name }}.ts"',
    "skipIf: entity.abstract==true",
    "---",
    "// {{ label(entity.iri) }}   ",
    "export interface {{ entity.name }} {\r",
    "  iri: '{{ entity.iri }}';\t",
    "}",
  ].join("\n"),
};

const indexTemplate: PlanTemplate = {
  path: "index.ts.njk",
  hash: H("index"),
  source: [
    "---",
    `query: "${ENTITIES}"`,
    "to: src/index.ts",
    "chmod: 420",
    "---",
    "// {{ package }} {{ params.package }} built {{ kgen.buildTime }}",
    "{% for row in rows %}export * from './{{ row.name }}';",
    "{% endfor %}",
  ].join("\n"),
};

const partial: PlanTemplate = { path: "_macros.njk", hash: H("partial"), source: "{% macro x() %}x{% endmacro %}" };

const options = { params: { package: "@shop/types" }, kgen: { buildTime: "2026-11-20T10:00:00Z" } };

describe("planJob", () => {
  it("fans out over query rows, honours skipIf and to:, and skips templates without to:", async () => {
    const plan = await planJob([entityTemplate, indexTemplate, partial], makeDeps(), options);
    expect(plan.artifacts.map((artifact) => [artifact.path, artifact.mode, artifact.rowIndex])).toEqual([
      ["src/Customer.ts", "write", 0],
      ["src/Order.ts", "write", 1],
      ["src/index.ts", "write", null],
    ]);
    expect(plan.skipped).toEqual([
      { template: "_macros.njk", rowIndex: null, reason: "no-to" },
      { template: "types/entity.ts.njk", rowIndex: 2, reason: "skip-if" },
    ]);
    const customer = plan.artifacts[0];
    expect(customer?.content).toBe("// A customer\nexport interface Customer {\n  iri: 'http://ex.org/Customer';\n}\n");
    expect(customer?.sha256).toBe(H(customer?.content as string));
    expect(customer?.size).toBe(Buffer.byteLength(customer?.content as string));
    expect(customer?.template).toEqual({ path: "types/entity.ts.njk", hash: H("entity") });
    const index = plan.artifacts[2];
    expect(index?.content).toBe(
      "// @shop/types @shop/types built 2026-11-20T10:00:00Z\nexport * from './Customer';\nexport * from './Order';\nexport * from './Thing';\n",
    );
    expect(index?.chmod).toBe("0644");
  });

  it("records the frontmatter query and every render-time query with the hash of its canonical result", async () => {
    const plan = await planJob([entityTemplate, indexTemplate], makeDeps(), options);
    const rowsHash = H(
      JSON.stringify(TABLE[ENTITIES]?.map((row) => ({ abstract: row.abstract, iri: row.iri, name: row.name }))),
    );
    expect(plan.artifacts[0]?.dependencies).toEqual([
      { query: ENTITIES, resultSha256: rowsHash },
      { query: labelQuery("http://ex.org/Customer"), resultSha256: H(`[{"label":"A customer","p":"${RDFS_LABEL}"}]`) },
    ]);
    expect(plan.artifacts[2]?.dependencies).toEqual([{ query: ENTITIES, resultSha256: rowsHash }]);
  });

  it("runs each query text once per plan", async () => {
    const calls: string[] = [];
    await planJob([entityTemplate, indexTemplate], makeDeps(calls), options);
    expect(calls.filter((query) => query === ENTITIES)).toHaveLength(1);
    expect(calls).toHaveLength(3); // entities + the labels of the two rendered (non-skipped) rows
  });

  it("is deterministic: input order and params key order do not change the plan", async () => {
    const a = await planJob([entityTemplate, indexTemplate, partial], makeDeps(), {
      params: { package: "@shop/types", flags: { b: 1, a: 2 } },
      kgen: options.kgen,
    });
    const b = await planJob([partial, indexTemplate, entityTemplate], makeDeps(), {
      params: { flags: { a: 2, b: 1 }, package: "@shop/types" },
      kgen: options.kgen,
    });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(a.artifacts[0]?.contextSha256).toBe(b.artifacts[0]?.contextSha256);
    expect(a.artifacts[0]?.contextSha256).not.toBe(a.artifacts[1]?.contextSha256);
  });

  it("works with asynchronous dependencies", async () => {
    const plan = await planJob([indexTemplate], makeDeps([], { async: true }), options);
    expect(plan.artifacts).toHaveLength(1);
    expect(plan.artifacts[0]?.dependencies[0]?.query).toBe(ENTITIES);
  });

  it("turns write-mode frontmatter into patch artifacts", async () => {
    const patch = (path: string, fields: string): PlanTemplate => ({
      path,
      hash: H(path),
      source: `---\nto: src/index.ts\n${fields}\n---\nexport * from './extra';\n`,
    });
    const plan = await planJob(
      [
        patch("p1.njk", "inject: true\nbefore: '// end'"),
        patch("p2.njk", "inject: true\nafter: '// start'"),
        patch("p3.njk", "append: true"),
        patch("p4.njk", "prepend: true"),
        patch("p5.njk", "lineAt: 3"),
        patch("p6.njk", ""),
      ],
      makeDeps(),
    );
    expect(
      plan.artifacts.map(({ mode, inject, lineAt, template }) => ({ mode, inject, lineAt, t: template.path })),
    ).toEqual([
      { mode: "write", inject: undefined, lineAt: undefined, t: "p6.njk" },
      { mode: "prepend", inject: undefined, lineAt: undefined, t: "p4.njk" },
      { mode: "inject", inject: { position: "before", marker: "// end" }, lineAt: undefined, t: "p1.njk" },
      { mode: "inject", inject: { position: "after", marker: "// start" }, lineAt: undefined, t: "p2.njk" },
      { mode: "lineAt", inject: undefined, lineAt: 3, t: "p5.njk" },
      { mode: "append", inject: undefined, lineAt: undefined, t: "p3.njk" },
    ]);
  });

  it("skips units whose to: renders empty", async () => {
    const template = { path: "t.njk", hash: H("t"), source: "---\nto: \"{{ '' }}\"\n---\nx" };
    expect((await planJob([template], makeDeps())).skipped).toEqual([
      { template: "t.njk", rowIndex: null, reason: "empty-to" },
    ]);
  });

  it("refuses rendered paths that escape the output root, naming the reason", async () => {
    for (const [to, reason] of [
      ["../{{ package }}.ts", "dot-dot"],
      ["/etc/{{ package }}", "absolute"],
      ["src\\\\{{ package }}", "backslash"],
      ["src//{{ package }}", "empty-segment"],
    ]) {
      const template = { path: "t.njk", hash: H("t"), source: `---\nto: "${to}"\n---\nx` };
      const error = await planJob([template], makeDeps(), { params: { package: "p" } }).catch((e: unknown) => e);
      expect(error, to).toBeInstanceOf(PlanError);
      expect((error as PlanError).code).toBe("output-path");
      expect((error as PlanError).template).toBe("t.njk");
      expect((error as PlanError).cause).toBeInstanceOf(OutputPathError);
      expect(((error as PlanError).cause as OutputPathError).reason).toBe(reason);
    }
  });

  it("refuses two whole files for one path and a path that is both file and directory", async () => {
    const a = { path: "a.njk", hash: H("a"), source: "---\nto: out/x\n---\n1" };
    const b = { path: "b.njk", hash: H("b"), source: "---\nto: out/x\n---\n2" };
    const c = { path: "c.njk", hash: H("c"), source: "---\nto: out/x/y\n---\n3" };
    await expect(planJob([a, b], makeDeps())).rejects.toMatchObject({ code: "duplicate-output" });
    await expect(planJob([a, c], makeDeps())).rejects.toMatchObject({ code: "path-conflict" });
    const append = { path: "d.njk", hash: H("d"), source: "---\nto: out/x\nappend: true\n---\n4" };
    expect((await planJob([a, append], makeDeps())).artifacts).toHaveLength(2);
  });

  it("refuses output paths that are one file on a case-insensitive file system, naming both", async () => {
    const upper = { path: "upper.njk", hash: H("u"), source: "---\nto: src/A.ts\n---\n1" };
    const lower = { path: "lower.njk", hash: H("l"), source: "---\nto: src/a.ts\n---\n2" };
    await expect(planJob([upper, lower], makeDeps())).rejects.toMatchObject({
      name: "PathCollisionError",
      first: { path: "src/A.ts", template: "upper.njk", rowIndex: null },
      second: { path: "src/a.ts", template: "lower.njk", rowIndex: null },
    });
    const rows = {
      path: "rows.njk",
      hash: H("r"),
      source: `---\nto: "{{ 'X' if entity.name == 'Order' else ('x' if entity.name == 'Customer' else entity.name) }}.ts"\nquery: "${ENTITIES}"\nforeach: entity\n---\n`,
    };
    await expect(planJob([rows], makeDeps())).rejects.toMatchObject({
      name: "PathCollisionError",
      first: { path: "X.ts", rowIndex: 1 },
      second: { path: "x.ts", rowIndex: 0 },
    });
  });

  it("reports foreach misuse, query and render failures with the template", async () => {
    const noQuery = { path: "n.njk", hash: H("n"), source: "---\nto: x\nforeach: item\n---\n" };
    await expect(planJob([noQuery], makeDeps())).rejects.toMatchObject({
      code: "foreach-without-query",
      template: "n.njk",
    });
    const dotted = { path: "d.njk", hash: H("d"), source: `---\nto: x\nforeach: a.b\nquery: "${ENTITIES}"\n---\n` };
    await expect(planJob([dotted], makeDeps())).rejects.toMatchObject({ code: "invalid-foreach" });
    const badQuery = { path: "q.njk", hash: H("q"), source: "---\nto: x\nquery: nope\n---\n" };
    await expect(planJob([badQuery], makeDeps())).rejects.toMatchObject({ code: "query", template: "q.njk" });
    const badRender = { path: "r.njk", hash: H("r"), source: "---\nto: x\n---\n{% if %}" };
    await expect(planJob([badRender], makeDeps())).rejects.toMatchObject({ code: "render", template: "r.njk" });
    const badYaml = { path: "y.njk", hash: H("y"), source: "---\nto: [\n---\n" };
    await expect(planJob([badYaml], makeDeps())).rejects.toMatchObject({ code: "frontmatter" });
  });

  it("keeps renders from changing shared data or each other's context", async () => {
    const seen: unknown[] = [];
    const deps: PlanDependencies = {
      ...makeDeps(),
      render(source, context) {
        if (source.startsWith("body")) {
          seen.push(context.leaked);
          context.leaked = true;
          expect(() => (context.rows as QueryRows).push({})).toThrow(TypeError);
          expect(() => {
            (context.entity as Record<string, string>).name = "changed";
          }).toThrow(TypeError);
        }
        return `${source}-${(context.entity as Record<string, string>).name}`;
      },
    };
    const template = {
      path: "t.njk",
      hash: H("t"),
      source: `---\nto: x\nforeach: entity\nquery: "${ENTITIES}"\n---\nbody`,
    };
    const plan = await planJob([template], deps);
    expect(seen).toEqual([undefined, undefined, undefined]);
    expect(plan.artifacts.map((artifact) => artifact.path)).toEqual(["x-Customer", "x-Order", "x-Thing"]);
  });

  it("keeps __proto__ keys of rows and params as plain data", async () => {
    const query = "SELECT ?__proto__ WHERE { ?s ?p ?__proto__ }";
    const seen: Array<Record<string, unknown>> = [];
    const deps: PlanDependencies = {
      ...makeDeps(),
      runQuery: () => JSON.parse('[{"__proto__":"evil"}]'),
      render(source, context) {
        seen.push(context);
        return source;
      },
    };
    const template = { path: "t.njk", hash: H("t"), source: `---\nto: x\nforeach: row\nquery: "${query}"\n---\nbody` };
    await planJob([template], deps, { params: JSON.parse('{"__proto__":{"polluted":true}}') });
    const context = seen[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(context)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(context, "__proto__")?.value).toEqual({ polluted: true });
    expect(Object.getOwnPropertyDescriptor(context.row, "__proto__")?.value).toBe("evil");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const reserved = { ...template, source: template.source.replace("foreach: row", "foreach: __proto__") };
    await expect(planJob([reserved], deps)).rejects.toMatchObject({ code: "invalid-foreach" });
  });

  it("stops runaway fan-out at maxArtifacts", async () => {
    await expect(
      planJob([entityTemplate, indexTemplate], makeDeps(), { ...options, maxArtifacts: 2 }),
    ).rejects.toMatchObject({
      code: "too-many-artifacts",
    });
  });

  it("lets a queue consumer render unit by unit with the same result", async () => {
    const planner = new TemplateUnitPipeline(makeDeps(), options);
    const prepared = await planner.prepare(entityTemplate);
    expect(prepared.units).toBe(3);
    const second = await planner.renderUnit(prepared, 1);
    const whole = await planJob([entityTemplate], makeDeps(), options);
    expect(second).toEqual(whole.artifacts[1]);
    await expect(planner.renderUnit(prepared, 3)).rejects.toThrow(RangeError);
  });

  it("splits units into queue batches per template", async () => {
    const planner = new TemplateUnitPipeline(makeDeps(), options);
    const prepared = await Promise.all([indexTemplate, entityTemplate, partial].map((t) => planner.prepare(t)));
    expect(prepared.map((p) => p.units)).toEqual([1, 3, 0]);
    expect(batchUnits(prepared, 2)).toEqual([
      { template: "index.ts.njk", start: 0, end: 1 },
      { template: "types/entity.ts.njk", start: 0, end: 2 },
      { template: "types/entity.ts.njk", start: 2, end: 3 },
    ]);
    expect(() => batchUnits(prepared, 0)).toThrow(RangeError);
  });
});
