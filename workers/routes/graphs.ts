import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { CommitView } from "../../durable-objects/tenant/graph-service";
import { unwrap } from "../../durable-objects/tenant/rpc-outcome";
import { GRAPH_NAME } from "../../shared/contracts/graphs";
import { assertJsonTextDepth } from "../../shared/core/json-nesting";
import { type PlanName, planLimits, queryLimits } from "../../shared/plans";
import { negotiateMediaType, pickParser, pickSerializer } from "../../shared/rdf/content-negotiation";
import { parseRdfSync, RDF_MEDIA_TYPES, serializeRdfSync } from "../../shared/rdf/formats";
import { validateShacl } from "../../shared/rdf/shacl";
import { decodeUtf8 } from "../../shared/rdf/utf8-text";
import { authenticate, requireRole } from "../auth/authenticate";
import type { AppEnv } from "../context";
import { createRouter, type DocumentedRoute, documentRoutes, mediaTypeOf } from "../openapi";
import { HttpError } from "../problems/http-error";
import { invalidField } from "../problems/problem-response";
import { tenantObject } from "../tenant-object-stub";

function graphName(c: Context<AppEnv>): string {
  const name = c.req.param("name") ?? "";
  if (!GRAPH_NAME.test(name)) throw invalidField("name", "1–128 of letters, digits, '.', '_', '-'", "path");
  return name;
}

function versionNumber(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\d{1,9}$/.test(value)) throw invalidField(field, "a version number", "query");
  return Number(value);
}

/** The request body as text: 422 invalid-utf8 (naming the byte) rather than replacement characters. */
async function utf8Body(c: Context<AppEnv>): Promise<string> {
  return decodeUtf8(new Uint8Array(await c.req.arrayBuffer()));
}

/** A JSON request body, nesting refused before parsing; undefined when it is not JSON. */
async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  const text = await utf8Body(c);
  assertJsonTextDepth(text, "json");
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const limitsOf = (c: Context<AppEnv>) => planLimits(c.var.tenant.plan as PlanName);
const graphs = (c: Context<AppEnv>) => tenantObject(c.env, c.var.tenant);

export const graphRoutes = createRouter();

graphRoutes.get("/graphs", authenticate, requireRole("viewer"), async (c) => {
  return c.json({ items: unwrap(await graphs(c).graphList()) });
});

graphRoutes.put("/graphs/:name", authenticate, requireRole("editor"), async (c) => {
  const name = graphName(c);
  const mediaType = pickParser(c.req.header("content-type"));
  const limits = limitsOf(c);
  const createdAt = new Date().toISOString();
  const stub = graphs(c);
  // The body streams into the tenant's Durable Object, which parses, stores and hashes it as it arrives.
  const committed = unwrap(
    await stub.graphIngest({
      name,
      mediaType,
      body: c.req.raw.body,
      createdAt,
      tripleLimit: limits.triples,
      maxBytes: limits.maxRequestBodyBytes,
    }),
  );
  return c.json(committed.version, committed.created ? 201 : 200, {
    location: `/v1/graphs/${name}/versions/${committed.version.version}`,
  });
});

graphRoutes.patch("/graphs/:name", authenticate, requireRole("editor"), async (c) => {
  const name = graphName(c);
  const stub = graphs(c);
  const tripleLimit = limitsOf(c).triples;
  const createdAt = new Date().toISOString();
  const mediaType = mediaTypeOf(c);
  let committed: CommitView;
  if (mediaType === "application/sparql-update") {
    committed = unwrap(
      await stub.graphUpdate({
        name,
        update: await utf8Body(c),
        createdAt,
        tripleLimit,
        now: createdAt,
        maxSteps: queryLimits(c.var.tenant.plan).maxSteps,
      }),
    );
  } else if (mediaType === "application/json") {
    const parsed = z
      .object({ add: z.string().optional(), remove: z.string().optional() })
      .strict()
      .refine((patch) => patch.add !== undefined || patch.remove !== undefined, {
        message: "Give add, remove or both.",
      })
      .safeParse(await jsonBody(c));
    if (!parsed.success)
      throw invalidField(
        String(parsed.error.issues[0]?.path[0] ?? "body"),
        parsed.error.issues[0]?.message ?? "Invalid",
        "body",
      );
    const toNTriples = (turtle: string | undefined) =>
      serializeRdfSync(
        parseRdfSync(turtle ?? "", RDF_MEDIA_TYPES.turtle, { maxQuads: tripleLimit }),
        RDF_MEDIA_TYPES.ntriples,
      );
    committed = unwrap(
      await stub.graphPatch({
        name,
        add: toNTriples(parsed.data.add),
        remove: toNTriples(parsed.data.remove),
        createdAt,
        tripleLimit,
      }),
    );
  } else {
    throw new HttpError(
      415,
      "unsupported-media-type",
      "Unsupported Media Type",
      "PATCH takes application/sparql-update or application/json {add, remove}.",
    );
  }
  return c.json(committed.version, committed.created ? 201 : 200);
});

graphRoutes.get("/graphs/:name", authenticate, requireRole("viewer"), async (c) => {
  return c.json(unwrap(await graphs(c).graphLatest(graphName(c))));
});

graphRoutes.delete("/graphs/:name", authenticate, requireRole("editor"), async (c) => {
  const name = graphName(c);
  const stub = graphs(c);
  if (!unwrap(await stub.graphDelete(name)))
    throw new HttpError(404, "not-found", "Not Found", `Graph "${name}" does not exist.`);
  return c.body(null, 204);
});

graphRoutes.get("/graphs/:name/versions", authenticate, requireRole("viewer"), async (c) => {
  return c.json({ items: unwrap(await graphs(c).graphVersions(graphName(c))) });
});

graphRoutes.get("/graphs/:name/versions/:version", authenticate, requireRole("viewer"), async (c) => {
  const name = graphName(c);
  const version = versionNumber(c.req.param("version"), "version") as number;
  const mediaType = pickSerializer(c.req.header("accept") ?? RDF_MEDIA_TYPES.turtle);
  if (!mediaType)
    throw new HttpError(
      406,
      "not-acceptable",
      "Not Acceptable",
      "Ask for Turtle, N-Triples, N-Quads, TriG or JSON-LD.",
    );
  const { contentType, body } = unwrap(await graphs(c).graphContent(name, version, mediaType));
  return c.body(body, 200, { "content-type": `${contentType}; charset=utf-8` });
});

graphRoutes.get("/graphs/:name/diff", authenticate, requireRole("viewer"), async (c) => {
  const name = graphName(c);
  const from = versionNumber(c.req.query("from"), "from");
  const to = versionNumber(c.req.query("to"), "to");
  if (from === undefined) throw invalidField("from", "Required", "query");
  if (to === undefined) throw invalidField("to", "Required", "query");
  const mediaType = negotiateMediaType(c.req.header("accept"), ["application/json", "application/n-triples"] as const);
  if (!mediaType)
    throw new HttpError(406, "not-acceptable", "Not Acceptable", "Ask for application/json or application/n-triples.");
  const { contentType, body } = unwrap(await graphs(c).graphDiff(name, from, to, mediaType));
  return c.body(body, 200, { "content-type": contentType });
});

async function sparqlRequest(c: Context<AppEnv>): Promise<string> {
  if (c.req.method === "GET") {
    const query = c.req.query("query");
    if (!query) throw invalidField("query", "Required", "query");
    return query;
  }
  const mediaType = mediaTypeOf(c);
  if (mediaType === "application/sparql-query") return c.req.text();
  if (mediaType === "application/x-www-form-urlencoded") {
    const query = new URLSearchParams(await c.req.text()).get("query");
    if (!query) throw invalidField("query", "Required", "body");
    return query;
  }
  throw new HttpError(
    415,
    "unsupported-media-type",
    "Unsupported Media Type",
    "POST the query as application/sparql-query or a form field `query`.",
  );
}

const sparqlHandler = async (c: Context<AppEnv>) => {
  const name = graphName(c);
  const query = await sparqlRequest(c);
  // Wall time around the Durable Object call (I/O from here, so the clock does advance in production).
  const started = Date.now();
  const outcome = await graphs(c).graphQuery({
    name,
    version: versionNumber(c.req.query("version"), "version"),
    query,
    accept: c.req.header("accept") ?? "application/sparql-results+json",
    limits: queryLimits(c.var.tenant.plan),
    now: new Date().toISOString(),
  });
  const queryMs = Date.now() - started;
  const { contentType, body } = unwrap(outcome);
  return c.body(body, 200, {
    "content-type": `${contentType}; charset=utf-8`,
    "server-timing": `query;dur=${queryMs}`,
  });
};
graphRoutes.get("/graphs/:name/sparql", authenticate, requireRole("viewer"), sparqlHandler);
graphRoutes.post("/graphs/:name/sparql", authenticate, requireRole("viewer"), sparqlHandler);

graphRoutes.post("/graphs/:name/validate", authenticate, requireRole("viewer"), async (c) => {
  const name = graphName(c);
  if (mediaTypeOf(c) !== "text/turtle") {
    throw new HttpError(
      415,
      "unsupported-media-type",
      "Unsupported Media Type",
      "Send the SHACL shapes as text/turtle.",
    );
  }
  const shapes = await utf8Body(c);
  const data = unwrap(await graphs(c).graphTriples(name, versionNumber(c.req.query("version"), "version")));
  const report = await validateShacl(parseRdfSync(data, RDF_MEDIA_TYPES.ntriples), shapes);
  if ((c.req.header("accept") ?? "").startsWith("text/turtle")) {
    return c.body(report.turtle, 200, { "content-type": "text/turtle; charset=utf-8" });
  }
  return c.json({ conforms: report.conforms, results: report.results });
});

const documented: DocumentedRoute[] = [
  ["get", "/graphs", "List graphs with their latest version (viewer)", [401, 403, 429]],
  [
    "put",
    "/graphs/{name}",
    "Replace a graph's content (Turtle, N-Triples, N-Quads, TriG, JSON-LD by Content-Type): a new version, or the existing one for identical content (editor)",
    [400, 401, 403, 413, 415, 422, 429],
  ],
  [
    "patch",
    "/graphs/{name}",
    "Change a graph with SPARQL 1.1 Update (application/sparql-update) or {add, remove} Turtle (application/json): a new version (editor)",
    [400, 401, 403, 404, 415, 422, 429],
  ],
  [
    "get",
    "/graphs/{name}",
    "The latest version: number, canonical hash, triple count, created (viewer)",
    [401, 403, 404, 429],
  ],
  ["delete", "/graphs/{name}", "Delete a graph and all its versions (editor)", [401, 403, 404, 429]],
  ["get", "/graphs/{name}/versions", "All versions of a graph (viewer)", [401, 403, 404, 429]],
  [
    "get",
    "/graphs/{name}/versions/{version}",
    "A version's content in the format of Accept (viewer)",
    [401, 403, 404, 406, 429],
  ],
  [
    "get",
    "/graphs/{name}/diff",
    "Added and removed triples and changed subjects between versions `from` and `to` (JSON or N-Triples) (viewer)",
    [400, 401, 403, 404, 406, 429],
  ],
  [
    "get",
    "/graphs/{name}/sparql",
    "SPARQL 1.1 Protocol query (`query`, optional `version`); results as SPARQL JSON/XML/CSV/TSV or, for graphs, Turtle/N-Triples/JSON-LD (viewer)",
    [400, 401, 403, 404, 406, 422, 429],
  ],
  [
    "post",
    "/graphs/{name}/sparql",
    "SPARQL 1.1 Protocol query as application/sparql-query or a form field (viewer)",
    [400, 401, 403, 404, 406, 415, 422, 429],
  ],
  [
    "post",
    "/graphs/{name}/validate",
    "Validate a version against SHACL shapes (text/turtle): a validation report (viewer)",
    [400, 401, 403, 404, 415, 422, 429],
  ],
];
documentRoutes(graphRoutes, "graphs", documented);
