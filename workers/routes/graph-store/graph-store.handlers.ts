import { unwrap } from "../../../durable-objects/tenant/rpc-outcome";
import { pickParser, pickSerializer } from "../../../shared/rdf/content-negotiation";
import { RDF_MEDIA_TYPES, SUPPORTED_RDF_MEDIA_TYPES } from "../../../shared/rdf/formats";
import type { AppRouteHandler } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { graphContent, notAcceptable } from "../graphs/graph-content";
import { boundedUtf8Body, graphStore, patchGraph, replaceGraph } from "../graphs/graph-writes";
import type * as routes from "./graph-store.routes";

/** The Protocol's 201 is for a graph that did not exist: its first version. */
const createdGraph = (committed: { created: boolean; version: { version: number } }) =>
  committed.created && committed.version.version === 1;

export const getStoreGraph: AppRouteHandler<typeof routes.getStoreGraph> = async (c) => {
  const { name } = c.req.valid("param");
  c.header("vary", "Accept");
  const mediaType = pickSerializer(c.req.header("accept") ?? RDF_MEDIA_TYPES.turtle);
  if (!mediaType) throw notAcceptable(SUPPORTED_RDF_MEDIA_TYPES);
  return graphContent(c, name, undefined, mediaType);
};

export const putStoreGraph: AppRouteHandler<typeof routes.putStoreGraph> = async (c) => {
  const { name } = c.req.valid("param");
  const committed = await replaceGraph(c, name, pickParser(c.req.header("content-type")), c.req.raw.body);
  return createdGraph(committed) ? c.json(committed.version, 201) : c.body(null, 204);
};

export const postStoreGraph: AppRouteHandler<typeof routes.postStoreGraph> = async (c) => {
  const { name } = c.req.valid("param");
  const mediaType = pickParser(c.req.header("content-type"));
  const document = await boundedUtf8Body(c);
  try {
    await patchGraph(c, name, { add: document, mediaType });
    return c.body(null, 204);
  } catch (error) {
    if (!(error instanceof HttpError && error.status === 404)) throw error;
  }
  // No such graph yet: the merge creates it with the document as its first version.
  const committed = await replaceGraph(c, name, mediaType, new Blob([document]).stream());
  return createdGraph(committed) ? c.json(committed.version, 201) : c.body(null, 204);
};

export const deleteStoreGraph: AppRouteHandler<typeof routes.deleteStoreGraph> = async (c) => {
  const { name } = c.req.valid("param");
  if (!unwrap(await graphStore(c).graphDelete(name)))
    throw new HttpError(404, "not-found", "Not Found", `Graph "${name}" does not exist.`);
  return c.body(null, 204);
};
