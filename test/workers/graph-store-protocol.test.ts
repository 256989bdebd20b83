import "./sparql-client-window";
import { Readable } from "node:stream";
import type { Quad } from "@rdfjs/types";
import { DataFactory } from "n3";
import { StreamClient } from "sparql-http-client";
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, call, createKey, createTenant, expectProblem, type TestTenant } from "./helpers";
import { graphStoreEndpoint, nodeStreamFetch, removeWindowStandIn } from "./sparql-clients";

const { namedNode, literal, quad } = DataFactory;
const ex = (local: string) => namedNode(`http://example.org/${local}`);

async function versions(tenant: TestTenant, name: string): Promise<number[]> {
  const res = await call(`/v1/graphs/${name}/versions`, { headers: bearer(tenant.apiKey) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: { version: number }[] }).items.map((item) => item.version);
}

function store(tenant: TestTenant | string, name: string, method: string, body?: string, query = "?default") {
  const credential = typeof tenant === "string" ? tenant : tenant.apiKey;
  return call(`/v1/graphs/${name}/store${query}`, {
    method,
    headers: { ...bearer(credential), ...(body === undefined ? {} : { "content-type": "text/turtle" }) },
    body,
  });
}

const sorted = (quads: Quad[]) => quads.map((q) => `${q.subject.value} ${q.predicate.value} ${q.object.value}`).sort();

describe("SPARQL 1.1 Graph Store HTTP Protocol", () => {
  let tenant: TestTenant;
  beforeAll(async () => {
    removeWindowStandIn();
    tenant = await createTenant();
  });

  it("sparql-http-client's store: PUT creates, GET reads, POST merges, PUT replaces", async () => {
    const client = new StreamClient({ storeUrl: graphStoreEndpoint("gsp"), fetch: nodeStreamFetch(tenant.apiKey) });
    await client.store.put(Readable.from([quad(ex("a"), ex("p"), literal("1"))]));
    expect(await versions(tenant, "gsp")).toEqual([1]);
    const read = async () => {
      const quads: Quad[] = [];
      for await (const item of client.store.get()) quads.push(item as Quad);
      return sorted(quads);
    };
    expect(await read()).toEqual(["http://example.org/a http://example.org/p 1"]);

    await client.store.post(Readable.from([quad(ex("b"), ex("p"), literal("2"))]));
    expect(await versions(tenant, "gsp")).toEqual([1, 2]);
    expect(await read()).toEqual([
      "http://example.org/a http://example.org/p 1",
      "http://example.org/b http://example.org/p 2",
    ]);

    await client.store.put(Readable.from([quad(ex("c"), ex("p"), literal("3"))]));
    expect(await read()).toEqual(["http://example.org/c http://example.org/p 3"]);
    expect(await versions(tenant, "gsp")).toEqual([1, 2, 3]);
  });

  it("answers with the Protocol's status codes", async () => {
    const doc = "@prefix ex: <http://example.org/> . ex:a ex:p 1 .";
    expect((await store(tenant, "codes", "PUT", doc)).status).toBe(201);
    expect((await store(tenant, "codes", "PUT", doc)).status).toBe(204);
    expect((await store(tenant, "codes", "POST", doc)).status).toBe(204);
    expect(await versions(tenant, "codes")).toEqual([1]);
    expect((await store(tenant, "merged", "POST", doc)).status).toBe(201);
    expect(await versions(tenant, "merged")).toEqual([1]);

    const turtle = await call("/v1/graphs/codes/store?default", {
      headers: bearer(tenant.apiKey, { accept: "text/turtle" }),
    });
    expect(turtle.status).toBe(200);
    expect(turtle.headers.get("content-type")).toBe("text/turtle; charset=utf-8");
    expect(turtle.headers.get("vary")).toContain("Accept");
    expect(await turtle.text()).toContain("ex:a ex:p 1");

    expect((await store(tenant, "codes", "DELETE")).status).toBe(204);
    await expectProblem(await store(tenant, "codes", "GET"), 404, "not-found");
    await expectProblem(await store(tenant, "codes", "DELETE"), 404, "not-found");
  });

  it("refuses what it does not serve, and bad documents, writing nothing", async () => {
    const doc = "<http://e/a> <http://e/b> <http://e/c> .";
    expect((await store(tenant, "strict", "PUT", doc)).status).toBe(201);
    await expectProblem(await store(tenant, "strict", "GET", undefined, "?graph=http://e/g"), 400, "validation-error");
    await expectProblem(await store(tenant, "strict", "GET", undefined, ""), 400, "validation-error");
    await expectProblem(await store(tenant, "strict", "POST", "<http://e/a> <http://e/b> ."), 400, "rdf-syntax-error");
    await expectProblem(await store(tenant, "strict", "PUT", "<http://e/a> <http://e/b> ."), 400, "rdf-syntax-error");
    await expectProblem(
      await call("/v1/graphs/strict/store?default", {
        method: "POST",
        headers: { ...bearer(tenant.apiKey), "content-type": "application/pdf" },
        body: "%PDF",
      }),
      415,
      "unsupported-media-type",
    );
    await expectProblem(
      await call("/v1/graphs/strict/store?default", { headers: bearer(tenant.apiKey, { accept: "image/png" }) }),
      406,
      "not-acceptable",
    );
    const viewer = await createKey(tenant, "viewer");
    await expectProblem(await store(viewer.secret, "strict", "POST", doc), 403, "insufficient-role");
    await expectProblem(await store(viewer.secret, "strict", "DELETE"), 403, "insufficient-role");
    expect((await store(viewer.secret, "strict", "GET")).status).toBe(200);
    expect(await versions(tenant, "strict")).toEqual([1]);
  });

  it("refuses a merge larger than one call to the tenant's object carries with 413, writing nothing", async () => {
    const large = await createTenant({ plan: "enterprise" });
    expect((await store(large, "big", "PUT", "<http://e/a> <http://e/b> <http://e/c> .")).status).toBe(201);
    // 26 literals of 1 MiB: 26 MiB of N-Triples, above the 24 MiB a change may carry.
    const text = "x".repeat(1024 * 1024);
    const document = Array.from({ length: 26 }, (_, i) => `<http://e/s${i}> <http://e/p> "${text}" .`).join("\n");
    const refused = await store(large, "big", "POST", document);
    const problem = await expectProblem(refused, 413, "payload-too-large");
    expect(problem.limit).toBe(24 * 1024 * 1024);
    expect(await versions(large, "big")).toEqual([1]);
  }, 60_000);

  it("answers 404 for another tenant's graph and leaves it as it was", async () => {
    const other = await createTenant();
    expect((await store(other, "theirs", "PUT", "<http://e/a> <http://e/b> <http://e/c> .")).status).toBe(201);
    await expectProblem(await store(tenant, "theirs", "GET"), 404, "not-found");
    await expectProblem(await store(tenant, "theirs", "DELETE"), 404, "not-found");
    // A write names the caller's own graph of that name, never the other tenant's.
    expect((await store(tenant, "theirs", "POST", "<http://e/x> <http://e/y> <http://e/z> .")).status).toBe(201);
    expect(await versions(other, "theirs")).toEqual([1]);
    const theirs = await call("/v1/graphs/theirs/store?default", {
      headers: bearer(other.apiKey, { accept: "application/n-triples" }),
    });
    expect(await theirs.text()).toBe("<http://e/a> <http://e/b> <http://e/c> .\n");
  });
});
