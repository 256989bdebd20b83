import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GraphRequiredError } from "../../../shared/generate/graph-required-error";
import { kgenPlanDependencies } from "../../../shared/generate/kgen-dependencies";
import { previewTemplate } from "../../../shared/generate/template-preview";
import { PlanError, type PlanTemplate, TemplateUnitPipeline } from "../../../shared/generate/template-unit";
import { OutputPathError } from "../../../shared/template/output-path";

const template = (path: string, source: string): PlanTemplate => ({
  path,
  hash: createHash("sha256").update(source).digest("hex"),
  source,
});

function pipelineFor(templates: PlanTemplate[], params: Record<string, unknown>, runQuery = (_: string) => []) {
  const deps = kgenPlanDependencies({ templates, buildTime: "2024-01-01T00:00:00.000Z", params, runQuery });
  return new TemplateUnitPipeline(deps, { params });
}

const ENTITY = template(
  "entity.ts.njk",
  "---\nto: \"  src/{{ module | kebabCase }}/{{ name | pascalCase }}.ts \"\nskipIf: '!enabled'\nchmod: '644'\n---\nx\n",
);

describe("the template-unit pipeline", () => {
  it("renders `to` with the body's filters, trims and checks it", async () => {
    const pipeline = pipelineFor([ENTITY], { module: "Billing Core", name: "invoice line", enabled: true });
    const { artifacts, skipped } = await pipeline.renderUnits(await pipeline.prepare(ENTITY));
    expect(skipped).toEqual([]);
    expect(artifacts).toMatchObject([{ path: "src/billing-core/InvoiceLine.ts", mode: "write", chmod: "0644" }]);
  });

  it("skips without rendering `to`", async () => {
    const pipeline = pipelineFor([ENTITY], { module: "..", enabled: false });
    const { artifacts, skipped } = await pipeline.renderUnits(await pipeline.prepare(ENTITY));
    expect(artifacts).toEqual([]);
    expect(skipped).toEqual([{ template: "entity.ts.njk", rowIndex: null, reason: "skip-if" }]);
  });

  it("refuses a `to` with .. (422 in the API, never normalised away)", async () => {
    const pipeline = pipelineFor([ENTITY], { module: "..", name: "x", enabled: true });
    const failure = await pipeline.renderUnits(await pipeline.prepare(ENTITY)).catch((error) => error);
    expect(failure).toBeInstanceOf(PlanError);
    expect((failure as PlanError).cause).toBeInstanceOf(OutputPathError);
  });

  it("renders the body of a template without `to` for a preview, as the engine rendered it", async () => {
    const partial = template("_partial.njk", "Hello {{ who }}  \r\n");
    const pipeline = pipelineFor([partial], { who: "you" });
    const prepared = await pipeline.prepare(partial);
    expect(prepared.units).toBe(0);
    expect(await pipeline.renderBodyWithoutTo(prepared)).toBe("Hello you  \r\n");
  });
});

describe("previewTemplate", () => {
  it("refuses a frontmatter query without a graph, even on a template without `to`", async () => {
    const partial = template("_rows.njk", '---\nsparql: "SELECT * WHERE { ?s ?p ?o }"\n---\n{{ rows | length }}');
    const pipeline = pipelineFor([partial], {});
    await expect(previewTemplate(pipeline, partial, { readsGraph: false, maxUnits: 10 })).rejects.toBeInstanceOf(
      GraphRequiredError,
    );
    expect(await previewTemplate(pipeline, partial, { readsGraph: true, maxUnits: 10 })).toMatchObject({
      rawOutput: "0",
      units: [],
    });
  });

  it("stops at maxUnits", async () => {
    const rows = [{ n: "a" }, { n: "b" }, { n: "c" }];
    const fanOut = template("n.njk", '---\nto: "{{ row.n }}.txt"\nsparql: "Q"\nforeach: row\n---\n{{ row.n }}');
    const pipeline = pipelineFor([fanOut], {}, () => rows as never[]);
    const preview = await previewTemplate(pipeline, fanOut, { readsGraph: true, maxUnits: 3 });
    expect(preview.units.map((unit) => [unit.path, unit.content])).toEqual([
      ["a.txt", "a\n"],
      ["b.txt", "b\n"],
      ["c.txt", "c\n"],
    ]);
    await expect(previewTemplate(pipeline, fanOut, { readsGraph: true, maxUnits: 2 })).rejects.toMatchObject({
      code: "too-many-artifacts",
    });
  });
});
