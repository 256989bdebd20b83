import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { app } from "../../../workers/app";
import { testEnvironment } from "../config/test-environment";

/** A valid environment (checked on every request) whose bindings only the abuse guard uses here. */
const env = testEnvironment();

interface Operation {
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
type OpenApiDocument = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** POST routes that take no body by design: nothing to describe. */
const BODYLESS = new Set([
  "POST /v1/signing-keys/rotate",
  "POST /v1/webhooks/:id/rotate-secret",
  "POST /v1/webhooks/:id/test",
  "POST /v1/webhooks/:id/deliveries/:deliveryId/redeliver",
  "POST /v1/events/tickets",
  "POST /v1/jobs/:id/pin",
]);
const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH"]);
/** The document itself is served by the framework, not declared as a route. */
const UNDOCUMENTED = new Set(["GET /v1/openapi.json"]);

async function servedDocument(): Promise<OpenApiDocument> {
  const res = await app.request("/v1/openapi.json", {}, env);
  expect(res.status).toBe(200);
  return (await res.json()) as OpenApiDocument;
}

/** Hono's `/graphs/:name` (or `:path{.+}`) as OpenAPI's `/graphs/{name}`. */
function openApiPath(honoPath: string): string {
  return honoPath.replace(/:(\w+)(\{(?:[^{}]|\{[^{}]*\})*\})?/g, "{$1}");
}

/** Every method + path the app answers, middleware-only entries left out. */
function registeredRoutes(): { method: string; path: string }[] {
  const seen = new Map<string, { method: string; path: string }>();
  for (const route of app.routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    seen.set(`${route.method} ${route.path}`, { method: route.method, path: route.path });
  }
  return [...seen.values()].sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

const hasSchemaPerMediaType = (content: Record<string, { schema?: unknown }> | undefined) =>
  content !== undefined && Object.keys(content).length > 0 && Object.values(content).every((media) => media.schema);

/** What a route's entry in the document lacks, or [] when it is fully described. */
function contractGaps(document: OpenApiDocument, method: string, honoPath: string): string[] {
  const route = `${method} ${honoPath}`;
  const operation = document.paths[openApiPath(honoPath)]?.[method.toLowerCase()];
  if (!operation) return ["not in /v1/openapi.json"];
  const gaps: string[] = [];
  if (METHODS_WITH_BODY.has(method) && !BODYLESS.has(route) && !hasSchemaPerMediaType(operation.requestBody?.content)) {
    gaps.push("no request body schema");
  }
  // 101: a WebSocket route succeeds by switching protocols, with no body to describe.
  const successes = Object.entries(operation.responses ?? {}).filter(([status]) => /^(2\d\d|101)$/.test(status));
  if (successes.length === 0) gaps.push("no 2xx response");
  for (const [status, response] of successes) {
    if (status !== "204" && status !== "101" && !hasSchemaPerMediaType(response.content)) {
      gaps.push(`no ${status} response schema`);
    }
  }
  return gaps;
}

describe("the OpenAPI contract", () => {
  it("describes every registered route: request body schema per media type and a schema per 2xx response", async () => {
    const document = await servedDocument();
    const routes = registeredRoutes().filter(({ method, path }) => !UNDOCUMENTED.has(`${method} ${path}`));
    expect(routes.length).toBeGreaterThan(20);
    const offending = routes
      .map(({ method, path }) => ({ route: `${method} ${path}`, gaps: contractGaps(document, method, path) }))
      .filter(({ gaps }) => gaps.length > 0)
      .map(({ route, gaps }) => `${route}: ${gaps.join(", ")}`);
    expect(offending, `Routes the OpenAPI document does not fully describe:\n${offending.join("\n")}`).toEqual([]);
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    const document = await servedDocument();
    expect(document.openapi).toBe("3.1.0");
    const result = await new Validator().validate(document as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

describe("the route walk's own checks", () => {
  const document: OpenApiDocument = {
    openapi: "3.1.0",
    paths: {
      "/v1/things/{id}": {
        get: { responses: { "200": { content: { "application/json": { schema: { type: "object" } } } } } },
        put: { responses: { "204": {} } },
        delete: { responses: { "200": { content: { "application/json": {} } } } },
      },
    },
  };

  it("maps Hono parameters, with or without a pattern, to OpenAPI parameters", () => {
    expect(openApiPath("/v1/things/:id")).toBe("/v1/things/{id}");
    expect(openApiPath("/v1/templates/:generator/:path{.+}")).toBe("/v1/templates/{generator}/{path}");
    expect(openApiPath("/v1/x/:n{[0-9]{1,3}}/y")).toBe("/v1/x/{n}/y");
  });

  it("accepts a described route and names what an undescribed one lacks", () => {
    expect(contractGaps(document, "GET", "/v1/things/:id")).toEqual([]);
    expect(contractGaps(document, "PUT", "/v1/things/:id")).toEqual(["no request body schema"]);
    expect(contractGaps(document, "DELETE", "/v1/things/:id")).toEqual(["no 200 response schema"]);
    expect(contractGaps(document, "POST", "/v1/things/:id")).toEqual(["not in /v1/openapi.json"]);
  });
});
