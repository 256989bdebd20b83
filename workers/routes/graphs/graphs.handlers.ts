import { unwrap } from "../../../durable-objects/tenant/rpc-outcome";
import { graphPatchSchema } from "../../../shared/contracts/graphs";
import { assertJsonTextDepth } from "../../../shared/core/json-nesting";
import {
  negotiateMediaType,
  pickParser,
  pickSerializer,
  rdfMediaTypeAlias,
} from "../../../shared/rdf/content-negotiation";
import { parseRdfSync, RDF_MEDIA_TYPES, SUPPORTED_RDF_MEDIA_TYPES } from "../../../shared/rdf/formats";
import { validateShacl } from "../../../shared/rdf/shacl";
import { type AppRouteHandler, mediaTypeOf } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { invalidField, validationError } from "../../problems/problem-response";
import { graphContent, notAcceptable, pinnedGraphContent } from "./graph-content";
import * as writes from "./graph-writes";
import type * as routes from "./graphs.routes";

const graphStore = writes.graphStore;

export const listGraphs: AppRouteHandler<typeof routes.listGraphs> = async (c) => {
  return c.json({ items: unwrap(await graphStore(c).graphList()) }, 200);
};

export const replaceGraph: AppRouteHandler<typeof routes.replaceGraph> = async (c) => {
  const { name } = c.req.valid("param");
  const committed = await writes.replaceGraph(c, name, pickParser(c.req.header("content-type")), c.req.raw.body);
  const location = writes.versionLocation(name, committed.version.version);
  if (committed.created) return c.json(committed.version, 201, { location });
  return c.json(committed.version, 200, { location });
};

export const patchGraph: AppRouteHandler<typeof routes.patchGraph> = async (c) => {
  const { name } = c.req.valid("param");
  const mediaType = mediaTypeOf(c);
  let committed: Awaited<ReturnType<typeof writes.updateGraph>>;
  if (mediaType === "application/sparql-update") {
    committed = await writes.updateGraph(c, name, await writes.utf8Body(c));
  } else if (mediaType === "application/json") {
    const text = await writes.utf8Body(c);
    assertJsonTextDepth(text, "json");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const parsed = graphPatchSchema.safeParse(body);
    if (!parsed.success) throw validationError(parsed.error, "body");
    committed = await writes.patchGraph(c, name, { ...parsed.data, mediaType: RDF_MEDIA_TYPES.turtle });
  } else {
    throw new HttpError(
      415,
      "unsupported-media-type",
      "Unsupported Media Type",
      "PATCH takes application/sparql-update or application/json {add, remove}.",
    );
  }
  return c.json(committed.version, committed.created ? 201 : 200);
};

const GRAPH_VIEWS = ["application/json", ...SUPPORTED_RDF_MEDIA_TYPES] as const;

export const getGraph: AppRouteHandler<typeof routes.getGraph> = async (c) => {
  const { name } = c.req.valid("param");
  c.header("vary", "Accept");
  const view = negotiateMediaType(c.req.header("accept"), GRAPH_VIEWS, rdfMediaTypeAlias);
  if (!view) throw notAcceptable(GRAPH_VIEWS);
  if (view === "application/json") return c.json(unwrap(await graphStore(c).graphLatest(name)), 200);
  return graphContent(c, name, undefined, view);
};

export const deleteGraph: AppRouteHandler<typeof routes.deleteGraph> = async (c) => {
  const { name } = c.req.valid("param");
  if (!unwrap(await graphStore(c).graphDelete(name)))
    throw new HttpError(404, "not-found", "Not Found", `Graph "${name}" does not exist.`);
  return c.body(null, 204);
};

export const listVersions: AppRouteHandler<typeof routes.listVersions> = async (c) => {
  const { name } = c.req.valid("param");
  return c.json({ items: unwrap(await graphStore(c).graphVersions(name)) }, 200);
};

export const getVersionContent: AppRouteHandler<typeof routes.getVersionContent> = async (c) => {
  const { name, version } = c.req.valid("param");
  const { hash } = c.req.valid("query");
  c.header("vary", "Accept");
  const mediaType = pickSerializer(c.req.header("accept") ?? RDF_MEDIA_TYPES.turtle);
  if (!mediaType) throw notAcceptable(SUPPORTED_RDF_MEDIA_TYPES);
  if (hash === undefined) return graphContent(c, name, version === "latest" ? undefined : Number(version), mediaType);
  if (version === "latest") throw invalidField("hash", "A content hash pins a version number, not latest", "query");
  return pinnedGraphContent(c, name, Number(version), hash, mediaType);
};

const DIFF_TYPES = ["application/json", "application/n-triples"] as const;

export const diffVersions: AppRouteHandler<typeof routes.diffVersions> = async (c) => {
  const { name } = c.req.valid("param");
  const { from, to } = c.req.valid("query");
  const mediaType = negotiateMediaType(c.req.header("accept"), DIFF_TYPES);
  if (!mediaType) throw notAcceptable(DIFF_TYPES);
  const { contentType, body } = unwrap(await graphStore(c).graphDiff(name, from, to, mediaType));
  return c.body(body, 200, { "content-type": contentType, vary: "Accept" });
};

export const validateGraph: AppRouteHandler<typeof routes.validateGraph> = async (c) => {
  const { name } = c.req.valid("param");
  const { version } = c.req.valid("query");
  if (mediaTypeOf(c) !== "text/turtle") {
    throw new HttpError(
      415,
      "unsupported-media-type",
      "Unsupported Media Type",
      "Send the SHACL shapes as text/turtle.",
    );
  }
  const shapes = await writes.utf8Body(c);
  const data = unwrap(await graphStore(c).graphTriples(name, version));
  const report = await validateShacl(parseRdfSync(data, RDF_MEDIA_TYPES.ntriples), shapes);
  if ((c.req.header("accept") ?? "").startsWith("text/turtle")) {
    return c.body(report.turtle, 200, { "content-type": "text/turtle; charset=utf-8" });
  }
  return c.json({ conforms: report.conforms, results: report.results }, 200);
};
