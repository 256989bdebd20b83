import type { Context } from "hono";
import { unwrap } from "../../../durable-objects/tenant/rpc-outcome";
import type { RdfMediaType } from "../../../shared/rdf/formats";
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
