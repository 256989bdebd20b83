import { describe, expect, it } from "vitest";
import { call } from "./helpers";

interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
}

const RDF_TYPES = [
  "text/turtle",
  "application/trig",
  "application/n-triples",
  "application/n-quads",
  "application/ld+json",
];

describe("graph routes in the OpenAPI document", () => {
  it("declares every graph, SPARQL and Graph Store route with its bodies and responses per media type", async () => {
    const doc = (await (await call("/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, unknown> };
    };
    const operation = (path: string, method: string) => {
      const found = doc.paths[path]?.[method];
      expect(found, `${method} ${path}`).toBeDefined();
      return found as Operation;
    };
    const methods = (path: string) => Object.keys(doc.paths[path] ?? {}).sort();
    expect(methods("/v1/graphs")).toEqual(["get"]);
    expect(methods("/v1/graphs/{name}")).toEqual(["delete", "get", "patch", "put"]);
    expect(methods("/v1/graphs/{name}/versions")).toEqual(["get"]);
    expect(methods("/v1/graphs/{name}/versions/{version}")).toEqual(["get"]);
    expect(methods("/v1/graphs/{name}/diff")).toEqual(["get"]);
    expect(methods("/v1/graphs/{name}/validate")).toEqual(["post"]);
    expect(methods("/v1/graphs/{name}/sparql")).toEqual(["get", "post"]);
    expect(methods("/v1/graphs/{name}/store")).toEqual(["delete", "get", "post", "put"]);

    const upload = operation("/v1/graphs/{name}", "put");
    expect(Object.keys(upload.requestBody?.content ?? {}).sort()).toEqual([...RDF_TYPES].sort());
    expect(upload.requestBody?.required).toBe(true);
    expect(Object.keys(upload.responses).sort()).toEqual([
      "200",
      "201",
      "400",
      "401",
      "403",
      "413",
      "415",
      "422",
      "429",
    ]);
    expect(upload.responses["201"]?.content).toHaveProperty("application/json");

    expect(Object.keys(operation("/v1/graphs/{name}", "patch").requestBody?.content ?? {}).sort()).toEqual([
      "application/json",
      "application/sparql-update",
    ]);
    const patchSchema = operation("/v1/graphs/{name}", "patch").requestBody?.content["application/json"]?.schema;
    expect(patchSchema).toEqual({ $ref: "#/components/schemas/GraphPatch" });
    expect(doc.components.schemas.GraphPatch).toMatchObject({
      type: "object",
      properties: { add: { type: "string" } },
    });

    expect(Object.keys(operation("/v1/graphs/{name}", "get").responses["200"]?.content ?? {}).sort()).toEqual(
      ["application/json", ...RDF_TYPES].sort(),
    );
    expect(operation("/v1/graphs/{name}", "get").responses).toHaveProperty("406");
    expect(
      Object.keys(operation("/v1/graphs/{name}/versions/{version}", "get").responses["200"]?.content ?? {}),
    ).toEqual(expect.arrayContaining(RDF_TYPES));

    const sparqlPost = operation("/v1/graphs/{name}/sparql", "post");
    expect(Object.keys(sparqlPost.requestBody?.content ?? {}).sort()).toEqual([
      "application/sparql-query",
      "application/sparql-update",
      "application/x-www-form-urlencoded",
    ]);
    expect(sparqlPost.responses["200"]?.content).toHaveProperty("application/sparql-results+json");
    expect(sparqlPost.responses["201"]?.content).toHaveProperty("application/json");
    expect(operation("/v1/graphs/{name}/sparql", "get").parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(["name", "query", "version"]),
    );

    for (const method of ["get", "put", "post", "delete"]) {
      expect(operation("/v1/graphs/{name}/store", method).parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(
        expect.arrayContaining(["path:name", "query:default"]),
      );
    }
    expect(Object.keys(operation("/v1/graphs/{name}/store", "put").responses)).toEqual(
      expect.arrayContaining(["201", "204"]),
    );
    expect(Object.keys(operation("/v1/graphs/{name}/store", "post").requestBody?.content ?? {}).sort()).toEqual(
      [...RDF_TYPES].sort(),
    );
  });
});
