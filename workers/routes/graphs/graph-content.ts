import type { Context } from "hono";
import { unwrap } from "../../../durable-objects/tenant/rpc-outcome";
import { RDF_MEDIA_TYPES, type RdfMediaType } from "../../../shared/rdf/formats";
import type { AppEnv } from "../../context";
import { HttpError } from "../../problems/http-error";
import { graphStore } from "./graph-writes";

export function notAcceptable(available: readonly string[]): HttpError {
  return new HttpError(406, "not-acceptable", "Not Acceptable", `Acceptable media types: ${available.join(", ")}.`);
}

/** A version's content (the latest when `version` is undefined) as the response, in `mediaType`. */
export async function graphContent(
  c: Context<AppEnv>,
  name: string,
  version: number | undefined,
  mediaType: RdfMediaType,
): Promise<Response> {
  const { contentType, body } = unwrap(await graphStore(c).graphContent(name, version, mediaType));
  return c.body(body, 200, { "content-type": `${contentType}; charset=utf-8`, vary: "Accept" });
}

/** The media types whose bytes a content hash fixes: sorted canonical lines (other formats carry prefixes). */
const CANONICAL_MEDIA_TYPES: readonly string[] = [RDF_MEDIA_TYPES.ntriples, RDF_MEDIA_TYPES.nquads];

/**
 * A version's content pinned by its content hash: the tenant's object answers only if version `version`
 * has `hash`. Canonical N-Triples and N-Quads are fixed by the hash up to blank node labels (an
 * isomorphic upload may keep others), so they are immutable with the hash as a weak ETag; other
 * formats are answered, not cached.
 */
export async function pinnedGraphContent(
  c: Context<AppEnv>,
  name: string,
  version: number,
  hash: string,
  mediaType: RdfMediaType,
): Promise<Response> {
  const { contentType, body } = unwrap(await graphStore(c).graphContent(name, version, mediaType, hash));
  const caching: Record<string, string> = CANONICAL_MEDIA_TYPES.includes(mediaType)
    ? { etag: `W/"${hash}"`, "cache-control": "private, max-age=31536000, immutable" }
    : { "cache-control": "private, no-store" };
  return c.body(body, 200, { "content-type": `${contentType}; charset=utf-8`, vary: "Accept", ...caching });
}
