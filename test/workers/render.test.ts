import { describe, expect, it } from "vitest";
import { bearer, call, createKey, createTenant, expectProblem, jsonBody, type TestTenant } from "./helpers";
import { runJob } from "./job-helpers";

const render = (tenant: TestTenant | string, body: unknown) =>
  call("/v1/render", jsonBody(body, typeof tenant === "string" ? tenant : tenant.apiKey));

function putTemplate(tenant: TestTenant, path: string, source: string) {
  return call(`/v1/templates/${path}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: source,
  });
}

describe("POST /v1/render", () => {
  it("renders with the KGEN environment and evaluates the frontmatter", async () => {
    const tenant = await createTenant();
    const template = `---
to: "src/{{ name | pascalCase }}.ts"
skipIf: "!enabled"
---
export const {{ name | constantCase }} = {{ fields | json }};
// built {{ now() }}`;
    const res = await render(tenant, {
      template,
      context: { name: "order line", enabled: true, fields: { b: 2, a: 1 } },
      options: { buildTime: "2026-01-02T03:04:05Z" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      output: 'export const ORDER_LINE = {"a":1,"b":2};\n// built 2026-01-02T03:04:05.000Z',
      frontmatter: { to: "src/OrderLine.ts", skipIf: "!enabled" },
      outputPath: "src/OrderLine.ts",
      skipped: false,
      units: [
        expect.objectContaining({
          path: "src/OrderLine.ts",
          mode: "write",
          // The content a job would write: normalized, final newline included.
          content: 'export const ORDER_LINE = {"a":1,"b":2};\n// built 2026-01-02T03:04:05.000Z\n',
          rowIndex: null,
          template: expect.objectContaining({ path: "template.njk" }),
        }),
      ],
      skippedUnits: [],
      graph: null,
    });
    const skipped = (await (await render(tenant, { template, context: { name: "x", enabled: false } })).json()) as {
      skipped: boolean;
      output: string;
    };
    expect(skipped).toMatchObject({
      skipped: true,
      output: "",
      units: [],
      skippedUnits: [{ template: "template.njk", rowIndex: null, reason: "skip-if" }],
    });
  });

  it("is deterministic: same inputs, same bytes; random is seeded, not drawn", async () => {
    const tenant = await createTenant();
    const body = { template: "{{ [1,2,3,4,5,6,7,8,9] | random }}-{{ random() }}-{{ now() }}", context: { x: 1 } };
    const first = await (await render(tenant, body)).text();
    for (let i = 0; i < 3; i++) expect(await (await render(tenant, body)).text()).toBe(first);
    const otherSeed = await (await render(tenant, { ...body, options: { seed: "another" } })).text();
    expect(otherSeed).not.toBe(first);
  });

  it("renders a stored template whose includes resolve within its generator", async () => {
    const tenant = await createTenant();
    await putTemplate(tenant, "site/partials/greeting.njk", "Hello, {{ who }}!");
    await putTemplate(
      tenant,
      "site/page.njk",
      '---\nto: "index.html"\n---\n<p>{% include "partials/greeting.njk" %}</p>',
    );
    const res = await render(tenant, { templatePath: "site/page.njk", context: { who: "<World>" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ output: "<p>Hello, <World>!</p>", outputPath: "index.html" });
    const escaped = await render(tenant, {
      templatePath: "site/page.njk",
      context: { who: "<World>" },
      options: { autoescape: true },
    });
    expect(((await escaped.json()) as { output: string }).output).toBe("<p>Hello, &lt;World&gt;!</p>");
  });

  it("answers 422 with the source line for template errors, frontmatter lines included", async () => {
    const tenant = await createTenant();
    const res = await render(tenant, { template: "---\nto: x.txt\n---\nfine\n{{ oops( }}" });
    const problem = await expectProblem(res, 422, "template-error");
    expect(problem.line).toBe(5);
    const undefinedVar = await render(tenant, { template: "{{ missing.value }}", options: { throwOnUndefined: true } });
    await expectProblem(undefinedVar, 422, "template-error");
    await expectProblem(await render(tenant, { template: "---\nlineAt: 0\n---\nx" }), 422, "invalid-frontmatter");
    await expectProblem(
      await render(tenant, { template: '---\nto: "../{{ x }}"\n---\nx', context: { x: "a" } }),
      422,
      "invalid-output-path",
    );
  });

  it("stops runaway templates with a budget problem, and refuses sandbox escapes", async () => {
    const tenant = await createTenant();
    const loop = await render(tenant, { template: "{% for i in range(100000000) %}x{% endfor %}" });
    const problem = await expectProblem(loop, 422, "template-budget-exceeded");
    expect(problem.budget).toBe("loopIterations");
    const output = await render(tenant, {
      template:
        '{% set s = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" %}{% for i in range(9000) %}{% for j in range(9000) %}{{ s }}{% endfor %}{% endfor %}',
    });
    await expectProblem(output, 422, "template-budget-exceeded");
    const sandboxEscape = await render(tenant, { template: '{{ "".constructor.constructor("return 1")() }}' });
    await expectProblem(sandboxEscape, 422, "template-sandbox-violation");
    const pollution = await render(tenant, { template: "{% set o = {} %}{{ o.__proto__ }}" });
    await expectProblem(pollution, 422, "template-sandbox-violation");
  });

  it("validates the request", async () => {
    const tenant = await createTenant();
    await expectProblem(await render(tenant, { context: {} }), 400, "validation-error");
    await expectProblem(await render(tenant, { template: "x", templatePath: "a/b" }), 400, "validation-error");
    await expectProblem(
      await render(tenant, { template: "x", options: { buildTime: "yesterday" } }),
      400,
      "validation-error",
    );
    await expectProblem(await render(tenant, { templatePath: "gen/missing.njk" }), 404, "not-found");
  });

  it("needs editor, and never renders another tenant's stored template", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const viewer = await createKey(a, "viewer");
    await expectProblem(await render(viewer.secret, { template: "x" }), 403, "insufficient-role");
    await putTemplate(b, "secret/t.njk", "B's secret");
    await expectProblem(await render(a, { templatePath: "secret/t.njk" }), 404, "not-found");
  });
});

const TURTLE = `@prefix ex: <http://ex.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Customer a ex:Entity ; rdfs:label "A customer" .
ex:Order a ex:Entity ; rdfs:label "An order" .
`;

function putGraph(tenant: TestTenant, name: string, turtle: string) {
  return call(`/v1/graphs/${name}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: turtle,
  });
}

const FOREACH = `---
to: "types/{{ entity.iri | replace('http://ex.org/', '') }}.ts"
sparql: "SELECT ?iri WHERE { ?iri a <http://ex.org/Entity> }"
foreach: entity
chmod: "755"
---
// {{ label(entity.iri) }} of {{ kgen.graph.name }} v{{ kgen.graph.version }}, {{ title }}
`;

describe("POST /v1/render against a graph", () => {
  it("evaluates frontmatter sparql/foreach and the graph globals, returning every unit a job would write", async () => {
    const tenant = await createTenant();
    expect((await putGraph(tenant, "model", TURTLE)).status).toBe(201);
    const res = await render(tenant, { template: FOREACH, graph: "model", context: { title: "T" } });
    const body = (await res.json()) as {
      units: {
        path: string;
        content: string;
        mode: string;
        chmod: string;
        rowIndex: number;
        dependencies: unknown[];
      }[];
      graph: { name: string; version: number };
      output: string;
      outputPath: string;
    };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.graph).toMatchObject({ name: "model", version: 1 });
    expect(body.units.map((unit) => [unit.path, unit.content, unit.mode, unit.chmod, unit.rowIndex])).toEqual([
      ["types/Customer.ts", "// A customer of model v1, T\n", "write", "0755", 0],
      ["types/Order.ts", "// An order of model v1, T\n", "write", "0755", 1],
    ]);
    // The frontmatter query and each label() are recorded, as in a job's provenance.
    expect(body.units[0]?.dependencies).toHaveLength(2);
    expect(body).toMatchObject({ output: "// A customer of model v1, T\n", outputPath: "types/Customer.ts" });
  });

  it("renders the version asked for, and 404s for unknown graphs, versions and another tenant's graph", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await putGraph(a, "model", TURTLE);
    await putGraph(a, "model", `${TURTLE}<http://ex.org/Line> a <http://ex.org/Entity> .\n`);
    const count = async (version?: number) => {
      const res = await render(a, { template: FOREACH, graph: "model", version, context: { title: "T" } });
      return ((await res.json()) as { units: unknown[] }).units.length;
    };
    expect(await count(1)).toBe(2);
    expect(await count()).toBe(3);
    await expectProblem(await render(a, { template: FOREACH, graph: "nope" }), 404, "not-found");
    await expectProblem(await render(a, { template: FOREACH, graph: "model", version: 9 }), 404, "not-found");
    await putTemplate(a, "gen/t.njk", FOREACH);
    expect((await render(a, { templatePath: "gen/t.njk", graph: "model", context: { title: "T" } })).status).toBe(200);
    await expectProblem(await render(a, { templatePath: "gen/other.njk", graph: "model" }), 404, "not-found");
    await expectProblem(await render(a, { templatePath: "nope/t.njk", graph: "model" }), 404, "not-found");
    await putGraph(b, "secret", TURTLE);
    await expectProblem(await render(a, { template: FOREACH, graph: "secret" }), 404, "not-found");
  });

  it("refuses a graph read without a graph: frontmatter sparql and sparql()/label() are a 422, not ignored", async () => {
    const tenant = await createTenant();
    const frontmatterQuery = await expectProblem(await render(tenant, { template: FOREACH }), 422, "graph-required");
    expect(frontmatterQuery.field).toBe("graph");
    const partialQuery = '---\nsparql: "SELECT * WHERE { ?s ?p ?o }"\n---\nx';
    await expectProblem(await render(tenant, { template: partialQuery }), 422, "graph-required");
    await expectProblem(
      await render(tenant, { template: "{{ label('http://ex.org/Customer') }}" }),
      422,
      "graph-required",
    );
    await expectProblem(
      await render(tenant, { template: "{% for r in sparql('SELECT * WHERE { ?s ?p ?o }') %}{% endfor %}" }),
      422,
      "graph-required",
    );
  });

  it("validates graph, version and options together", async () => {
    const tenant = await createTenant();
    await expectProblem(await render(tenant, { template: "x", version: 1 }), 400, "validation-error");
    await expectProblem(await render(tenant, { template: "x", graph: "bad name!" }), 400, "validation-error");
    await expectProblem(
      await render(tenant, { template: "x", graph: "model", options: { seed: "s" } }),
      400,
      "validation-error",
    );
  });

  it("refuses to answer with more rendered content than the inline cap", async () => {
    const tenant = await createTenant();
    const big = await render(tenant, {
      template:
        '---\nto: big.txt\n---\n{% set s = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" %}{% for i in range(300) %}{% for j in range(300) %}{{ s }}{% endfor %}{% endfor %}',
    });
    const problem = await expectProblem(big, 422, "content-too-large");
    expect(problem.limit).toBe(4 * 1024 * 1024);
  });

  it("fails a preview whose rows write one path twice, as the job would", async () => {
    const tenant = await createTenant();
    await putGraph(tenant, "model", TURTLE);
    const template = FOREACH.replace("types/{{ entity.iri | replace('http://ex.org/', '') }}.ts", "same.ts");
    const problem = await expectProblem(
      await render(tenant, { template, graph: "model" }),
      422,
      "generation-plan-error",
    );
    expect(problem.code).toBe("duplicate-output");
  });

  it("previews a stored template byte for byte as its job writes it, random and build time included", async () => {
    const tenant = await createTenant();
    await putGraph(tenant, "model", TURTLE);
    const source = FOREACH.replace(
      ", {{ title }}",
      ", {{ title }} {{ random() }} {{ [1, 2, 3] | random }} {{ now() }}",
    );
    expect((await putTemplate(tenant, "gen/t.njk", source)).status).toBe(201);
    const preview = (await (
      await render(tenant, { templatePath: "gen/t.njk", graph: "model", context: { title: "T" } })
    ).json()) as { units: { path: string; content: string; sha256: string }[] };
    const job = await runJob(tenant.apiKey, { graph: "model", generator: "gen", params: { title: "T" } });
    expect(job.status).toBe("completed");
    const { items } = (await (
      await call(`/v1/jobs/${job.id}/artifacts`, { headers: bearer(tenant.apiKey) })
    ).json()) as { items: { id: string; path: string; sha256: string }[] };
    expect(preview.units.map((unit) => [unit.path, unit.sha256])).toEqual(
      items.map((item) => [item.path, item.sha256]),
    );
    for (const [index, item] of items.entries()) {
      const bytes = await (await call(`/v1/artifacts/${item.id}`, { headers: bearer(tenant.apiKey) })).arrayBuffer();
      expect(preview.units[index]?.content).toBe(new TextDecoder().decode(bytes));
    }
    // Different params are a different job: the preview follows them.
    const other = (await (
      await render(tenant, { templatePath: "gen/t.njk", graph: "model", context: { title: "U" } })
    ).json()) as { units: { sha256: string }[] };
    expect(other.units[0]?.sha256).not.toBe(preview.units[0]?.sha256);
  });
});
