import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bearer, call, createKey, createTenant, expectProblem, type TestTenant } from "./helpers";
import { runJob } from "./job-helpers";

const SOURCE = `---
to: "src/{{ name | pascalCase }}.ts"
description: a model class
---
export class {{ name | pascalCase }} {
{% for field in fields %}  {{ field.name }}: {{ field.type }};
{% endfor %}}
`;

function putTemplate(tenant: TestTenant | string, path: string, source: string, contentType = "text/plain") {
  const credential = typeof tenant === "string" ? tenant : tenant.apiKey;
  return call(`/v1/templates/${path}`, {
    method: "PUT",
    headers: { ...bearer(credential), "content-type": contentType },
    body: source,
  });
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("templates", () => {
  it("stores a template content-addressed in R2 with its frontmatter and free variables", async () => {
    const tenant = await createTenant();
    const res = await putTemplate(tenant, "models/src/model.ts.njk", SOURCE);
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    const hash = await sha256(SOURCE);
    expect(body).toMatchObject({
      generator: "models",
      path: "src/model.ts.njk",
      hash,
      size: new TextEncoder().encode(SOURCE).length,
      frontmatter: { to: "src/{{ name | pascalCase }}.ts", description: "a model class" },
      variables: ["fields", "name"],
    });
    const blob = await env.ARTIFACTS.get(`t/${tenant.id}/sha256/${hash}`);
    expect(await blob?.text()).toBe(SOURCE);

    const got = await call("/v1/templates/models/src/model.ts.njk", { headers: bearer(tenant.apiKey) });
    expect(got.status).toBe(200);
    expect(got.headers.get("etag")).toBe(`"${hash}"`);
    expect(await got.json()).toMatchObject({ source: SOURCE, hash });
    const raw = await call("/v1/templates/models/src/model.ts.njk", {
      headers: bearer(tenant.apiKey, { accept: "text/plain" }),
    });
    expect(await raw.text()).toBe(SOURCE);
  });

  it("replaces in place (200) and lists generators with their template hashes", async () => {
    const tenant = await createTenant();
    expect((await putTemplate(tenant, "docs/a.md", "A {{ x }}")).status).toBe(201);
    expect((await putTemplate(tenant, "docs/b.md", "B")).status).toBe(201);
    expect((await putTemplate(tenant, "api/openapi.yaml", "openapi: 3.1.0")).status).toBe(201);
    const replaced = await putTemplate(tenant, "docs/a.md", "A2 {{ y }}");
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ variables: ["y"], hash: await sha256("A2 {{ y }}") });

    const generators = (await (await call("/v1/generators", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { name: string; templates: number }[];
    };
    expect(generators.items).toEqual([
      expect.objectContaining({ name: "api", templates: 1 }),
      expect.objectContaining({ name: "docs", templates: 2 }),
    ]);
    const docs = (await (await call("/v1/generators/docs", { headers: bearer(tenant.apiKey) })).json()) as {
      hash: string;
      templates: { path: string; hash: string }[];
    };
    expect(docs.templates).toEqual([
      { path: "a.md", hash: await sha256("A2 {{ y }}"), size: 10 },
      { path: "b.md", hash: await sha256("B"), size: 1 },
    ]);
    expect(docs.hash).toMatch(/^[0-9a-f]{64}$/);

    const list = (await (
      await call("/v1/templates?generator=docs&limit=1", { headers: bearer(tenant.apiKey) })
    ).json()) as { items: { path: string }[]; nextCursor: string };
    expect(list.items.map((t) => t.path)).toEqual(["a.md"]);
    const next = (await (
      await call(`/v1/templates?generator=docs&cursor=${encodeURIComponent(list.nextCursor)}`, {
        headers: bearer(tenant.apiKey),
      })
    ).json()) as { items: { path: string }[]; nextCursor: string | null };
    expect(next.items.map((t) => t.path)).toEqual(["b.md"]);
    expect(next.nextCursor).toBeNull();
  });

  it("parses the frontmatter query at upload: a syntax error answers 422 at its line and column in the file", async () => {
    const tenant = await createTenant();
    const source = "---\nto: out.txt\nsparql: |\n  SELECT ?s\n  WHERE { ?s ?p ?o FILTER(?o >) }\n---\n{{ rows }}\n";
    const problem = await expectProblem(await putTemplate(tenant, "q/bad.njk", source), 422, "invalid-frontmatter");
    expect(problem).toMatchObject({ field: "sparql", line: 5, column: "  WHERE { ?s ?p ?o FILTER(?o >".length + 1 });
    expect(String(problem.detail)).toMatch(/^sparql is not valid SPARQL/);
    await expectProblem(await call("/v1/templates/q/bad.njk", { headers: bearer(tenant.apiKey) }), 404, "not-found");

    const construct = '---\nto: out.txt\nquery: "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"\n---\nx';
    const notSelect = await expectProblem(await putTemplate(tenant, "q/c.njk", construct), 422, "invalid-frontmatter");
    expect(notSelect).toMatchObject({ field: "query", line: 3, column: 8 });
    const deep = `---\nto: out.txt\nsparql: "SELECT * WHERE { ${"{ ".repeat(400)}?s ?p ?o${" }".repeat(400)} }"\n---\nx`;
    await expectProblem(await putTemplate(tenant, "q/deep.njk", deep), 422, "nesting-too-deep");
    const good = '---\nto: out.txt\nsparql: "SELECT ?s WHERE { ?s ?p ?o }"\n---\n{{ rows | length }}';
    expect((await putTemplate(tenant, "q/good.njk", good)).status).toBe(201);
  });

  it("is described in the OpenAPI document by the routes that serve it, raw bodies included", async () => {
    const doc = (await (await call("/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
    };
    const template = doc.paths["/v1/templates/{generator}/{path}"] ?? {};
    expect(Object.keys(template).sort()).toEqual(["delete", "get", "put"]);
    expect(Object.keys(template.put?.requestBody?.content ?? {}).sort()).toEqual([
      "text/plain",
      "text/x-jinja",
      "text/x-nunjucks",
    ]);
    for (const path of ["/v1/templates", "/v1/generators", "/v1/generators/{name}"])
      expect(doc.paths[path]).toBeDefined();
    expect(Object.keys(doc.paths).filter((path) => path.includes("[") || path.includes(":"))).toEqual([]);
  });

  it("refuses a template that does not parse with 422, line and column, and stores nothing", async () => {
    const tenant = await createTenant();
    const res = await putTemplate(tenant, "bad/x.njk", "line one\n{% for x in %}\n{% endfor %}");
    const problem = await expectProblem(res, 422, "template-syntax-error");
    expect(problem.line).toBe(2);
    expect(typeof problem.column).toBe("number");
    await expectProblem(await call("/v1/templates/bad/x.njk", { headers: bearer(tenant.apiKey) }), 404, "not-found");
    const bad = await putTemplate(tenant, "bad/y.njk", "---\nappend: true\nprepend: true\n---\nx");
    const fm = await expectProblem(bad, 422, "invalid-frontmatter");
    expect(String(fm.detail)).toMatch(/append|prepend/);
    const generators = (await (await call("/v1/generators", { headers: bearer(tenant.apiKey) })).json()) as {
      items: unknown[];
    };
    expect(generators.items).toHaveLength(0);
  });

  it("validates names, media type and encoding", async () => {
    const tenant = await createTenant();
    await expectProblem(await putTemplate(tenant, "Bad Name/x.njk", "x"), 400, "validation-error");
    // (A literal ".." never arrives: URLs are normalised before routing; test/workers/hostile/auth.test.ts sends it as written.)
    await expectProblem(await putTemplate(tenant, "gen/.hidden/x.njk", "x"), 400, "validation-error");
    await expectProblem(await putTemplate(tenant, "gen/a//b.njk", "x"), 422, "invalid-template-path");
    await expectProblem(await putTemplate(tenant, "gen/a%2fb.njk", "x"), 422, "invalid-template-path");
    await expectProblem(await putTemplate(tenant, "gen/a%5cb.njk", "x"), 422, "invalid-template-path");
    await expectProblem(await putTemplate(tenant, "gen/a%00.njk", "x"), 422, "invalid-template-path");
    await expectProblem(await putTemplate(tenant, "gen/x.njk", "x", "application/json"), 415, "unsupported-media-type");
    const latin1 = await call("/v1/templates/gen/x.njk", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
    });
    await expectProblem(latin1, 400, "validation-error");
  });

  it("needs editor to write and viewer to read", async () => {
    const tenant = await createTenant();
    const viewer = await createKey(tenant, "viewer");
    await expectProblem(await putTemplate(viewer.secret, "gen/x.njk", "x"), 403, "insufficient-role");
    await putTemplate(tenant, "gen/x.njk", "x");
    expect((await call("/v1/templates/gen/x.njk", { headers: bearer(viewer.secret) })).status).toBe(200);
    await expectProblem(
      await call("/v1/templates/gen/x.njk", { method: "DELETE", headers: bearer(viewer.secret) }),
      403,
      "insufficient-role",
    );
  });

  it("deletes, and counts templates against the plan quota", async () => {
    const tenant = await createTenant();
    await putTemplate(tenant, "gen/x.njk", "x");
    expect((await call("/v1/templates/gen/x.njk", { method: "DELETE", headers: bearer(tenant.apiKey) })).status).toBe(
      204,
    );
    await expectProblem(
      await call("/v1/templates/gen/x.njk", { method: "DELETE", headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
    await expectProblem(await call("/v1/generators/gen", { headers: bearer(tenant.apiKey) }), 404, "not-found");
    const usage = (await (await call("/v1/usage", { headers: bearer(tenant.apiKey) })).json()) as {
      quotas: { counter: string; used: number }[];
    };
    expect(usage.quotas.find((q) => q.counter === "templates")?.used ?? 0).toBe(0);
  });

  it("refuses templates over the plan's quota with 403 quota-exceeded", async () => {
    const tenant = await createTenant();
    const { tenantObject } = await import("../../workers/tenant-object-stub");
    const { planLimits } = await import("../../shared/plans");
    const limit = planLimits("free").templates;
    await tenantObject(env, { id: tenant.id, jurisdiction: null }).reserveQuota({
      counter: "templates",
      amount: limit,
      limit,
    });
    await expectProblem(await putTemplate(tenant, "gen/one-too-many.njk", "x"), 403, "quota-exceeded");
    await expectProblem(
      await call("/v1/templates/gen/one-too-many.njk", { headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
  });

  it("isolates tenants: another tenant's templates and generators answer 404", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await putTemplate(b, "secret/x.njk", "B's template");
    await expectProblem(await call("/v1/templates/secret/x.njk", { headers: bearer(a.apiKey) }), 404, "not-found");
    await expectProblem(
      await call("/v1/templates/secret/x.njk", { method: "DELETE", headers: bearer(a.apiKey) }),
      404,
      "not-found",
    );
    await expectProblem(await call("/v1/generators/secret", { headers: bearer(a.apiKey) }), 404, "not-found");
    const list = (await (await call("/v1/templates", { headers: bearer(a.apiKey) })).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(0);
    // A writes the same address: its own template, B's is untouched.
    await putTemplate(a, "secret/x.njk", "A's template");
    const bView = (await (await call("/v1/templates/secret/x.njk", { headers: bearer(b.apiKey) })).json()) as {
      source: string;
    };
    expect(bView.source).toBe("B's template");
  });
});

describe("generator settings", () => {
  const patch = (credential: string, name: string, body: unknown, contentType = "application/json") =>
    call(`/v1/generators/${name}`, {
      method: "PATCH",
      headers: { ...bearer(credential), "content-type": contentType },
      body: JSON.stringify(body),
    });

  async function tenantWithGenerator() {
    const tenant = await createTenant();
    const graph = await call("/v1/graphs/g", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
      body: "<http://example.org/a> <http://example.org/p> 1 .",
    });
    expect(graph.status).toBe(201);
    expect((await putTemplate(tenant, "gen/out.njk", "---\nto: out.txt\n---\n{{ missing }}\n")).status).toBe(201);
    return tenant;
  }

  const generate = (tenant: TestTenant, body: Record<string, unknown>) =>
    call("/v1/generations", {
      method: "POST",
      headers: { ...bearer(tenant.apiKey), "content-type": "application/json" },
      body: JSON.stringify({ graph: "g", generator: "gen", ...body }),
    });
  /** A job started and run on the queue to its end. */
  const generated = (tenant: TestTenant, body: Record<string, unknown>) =>
    runJob(tenant.apiKey, { graph: "g", generator: "gen", ...body }, "/v1/generations");

  it("sets throwOnUndefined for the generator's jobs; a job's own option wins", async () => {
    const tenant = await tenantWithGenerator();
    const initial = (await (await call("/v1/generators/gen", { headers: bearer(tenant.apiKey) })).json()) as {
      options: unknown;
    };
    expect(initial.options).toEqual({ throwOnUndefined: false });
    expect((await generated(tenant, {})).status).toBe("completed");

    const res = await patch(tenant.apiKey, "gen", { options: { throwOnUndefined: true } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { options: unknown }).options).toEqual({ throwOnUndefined: true });
    const failed = await generated(tenant, {});
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe("`missing` is undefined in out.njk at line 4, column 1 (throwOnUndefined is on)");
    const problem = await expectProblem(await generate(tenant, { dryRun: true }), 422, "template-error");
    expect(problem.detail).toBe(failed.error);
    const overridden = await generated(tenant, { options: { throwOnUndefined: false } });
    expect(overridden.status).toBe("completed");
    expect(overridden).not.toHaveProperty("lock.options");

    // Omitted options keep their value.
    expect((await patch(tenant.apiKey, "gen", { options: {} })).status).toBe(200);
    const kept = (await (await call("/v1/generators/gen", { headers: bearer(tenant.apiKey) })).json()) as {
      options: unknown;
    };
    expect(kept.options).toEqual({ throwOnUndefined: true });
  });

  it("refuses bad settings, unknown generators, viewers and other tenants' generators", async () => {
    const tenant = await tenantWithGenerator();
    await expectProblem(
      await patch(tenant.apiKey, "gen", { options: { throwOnUndefined: "yes" } }),
      400,
      "validation-error",
    );
    await expectProblem(await patch(tenant.apiKey, "gen", { options: { strict: true } }), 400, "validation-error");
    await expectProblem(await patch(tenant.apiKey, "gen", {}), 400, "validation-error");
    await expectProblem(
      await patch(tenant.apiKey, "gen", { options: {} }, "text/plain"),
      415,
      "unsupported-media-type",
    );
    await expectProblem(await patch(tenant.apiKey, "nothing", { options: {} }), 404, "not-found");
    await expectProblem(await patch(tenant.apiKey, "Bad Name", { options: {} }), 400, "validation-error");
    const viewer = await createKey({ id: "", slug: "", apiKey: tenant.apiKey }, "viewer");
    await expectProblem(await patch(viewer.secret, "gen", { options: {} }), 403, "insufficient-role");

    const other = await createTenant();
    await expectProblem(await patch(other.apiKey, "gen", { options: { throwOnUndefined: true } }), 404, "not-found");
    const untouched = (await (await call("/v1/generators/gen", { headers: bearer(tenant.apiKey) })).json()) as {
      options: unknown;
    };
    expect(untouched.options).toEqual({ throwOnUndefined: false });
  });
});
