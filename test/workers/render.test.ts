import { describe, expect, it } from "vitest";
import { bearer, call, createKey, createTenant, expectProblem, jsonBody, type TestTenant } from "./helpers";

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
    });
    const skipped = (await (await render(tenant, { template, context: { name: "x", enabled: false } })).json()) as {
      skipped: boolean;
      output: string;
    };
    expect(skipped).toMatchObject({ skipped: true, output: "" });
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
