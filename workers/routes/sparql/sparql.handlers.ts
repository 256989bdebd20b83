import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { unwrap } from "../../../durable-objects/tenant/rpc-outcome";
import type { sparqlFormSchema } from "../../../shared/contracts/graphs";
import { roleAtLeast } from "../../../shared/contracts/roles";
import { sha256Hex } from "../../../shared/core/sha256";
import { queryLimits } from "../../../shared/plans";
import type { AppEnv } from "../../context";
import { routeClassOf } from "../../middleware/request-metering";
import { requestUsageBatch } from "../../middleware/request-usage-batch";
import { type AppRouteHandler, mediaTypeOf } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { invalidField } from "../../problems/problem-response";
import { graphStore, updateGraph, utf8Body, versionLocation } from "../graphs/graph-writes";
import type * as routes from "./sparql.routes";

async function answerQuery(
  c: Context<AppEnv>,
  name: string,
  query: string,
  version: number | undefined,
  expectedHash?: string,
) {
  // Wall time around the Durable Object call (I/O from here, so the clock does advance in production).
  const started = Date.now();
  const outcome = await graphStore(c).graphQuery({
    name,
    version,
    expectedHash,
    query,
    accept: c.req.header("accept") ?? "application/sparql-results+json",
    limits: queryLimits(c.var.tenant.plan),
    now: new Date().toISOString(),
  });
  const queryMs = Date.now() - started;
  const { contentType, body, immutable } = unwrap(outcome);
  requestUsageBatch.addWork(c.var.tenant, routeClassOf(c.req.method, c.req.routePath), Date.now(), {
    sparqlQueries: 1,
    sparqlMs: queryMs,
  });
  return c.body(body, 200, {
    "content-type": `${contentType}; charset=utf-8`,
    "server-timing": `query;dur=${queryMs}`,
    vary: "Accept",
    ...(expectedHash === undefined ? {} : await pinnedAnswerCaching(body, immutable)),
  });
}

/**
 * How a query pinned by a content hash may be kept: an answer fixed by that content is immutable (its
 * ETag the sha256 of its bytes); one that reads other graphs or volatile functions is never stored.
 */
async function pinnedAnswerCaching(body: string, immutable: boolean): Promise<Record<string, string>> {
  if (!immutable) return { "cache-control": "private, no-store" };
  const etag = `"${await sha256Hex(new TextEncoder().encode(body))}"`;
  return { etag, "cache-control": "private, max-age=31536000, immutable" };
}

/** A SPARQL 1.1 Protocol update: editors only, a new version exactly as PATCH makes one. */
async function answerUpdate(c: Context<AppEnv>, name: string, update: string, version: number | undefined) {
  if (!roleAtLeast(c.var.principal.role, "editor")) {
    throw new HttpError(403, "insufficient-role", "Forbidden", "A SPARQL update needs the editor role or higher.");
  }
  if (version !== undefined) throw invalidField("version", "Updates apply to the latest version", "query");
  const committed = await updateGraph(c, name, update);
  return c.json(committed.version, committed.created ? 201 : 200, {
    location: versionLocation(name, committed.version.version),
  });
}

export const sparqlGet: AppRouteHandler<typeof routes.sparqlGet> = async (c) => {
  const { name } = c.req.valid("param");
  const { query, update, version, hash } = c.req.valid("query");
  if (update !== undefined) throw invalidField("update", "Send updates with POST", "query");
  if (!query) throw invalidField("query", "Required", "query");
  if (hash !== undefined && version === undefined) {
    throw invalidField("hash", "A content hash pins a version: give `version` too", "query");
  }
  return answerQuery(c, name, query, version, hash);
};

export const sparqlPost: AppRouteHandler<typeof routes.sparqlPost> = async (c) => {
  const { name } = c.req.valid("param");
  const { version } = c.req.valid("query");
  const mediaType = mediaTypeOf(c);
  if (mediaType === "application/sparql-query") return answerQuery(c, name, await utf8Body(c), version);
  if (mediaType === "application/sparql-update") return answerUpdate(c, name, await utf8Body(c), version);
  if (mediaType === "application/x-www-form-urlencoded") {
    // zod-openapi validated the form; its types only follow bodies whose every media type has a zod schema.
    const readForm = c.req.valid as unknown as (target: "form") => z.output<typeof sparqlFormSchema>;
    const { query, update } = readForm.call(c.req, "form");
    if (query !== undefined && update !== undefined)
      throw invalidField("update", "Send query or update, not both", "body");
    if (update) return answerUpdate(c, name, update, version);
    if (query) return answerQuery(c, name, query, version);
    throw invalidField("query", "Required (or update)", "body");
  }
  throw new HttpError(
    415,
    "unsupported-media-type",
    "Unsupported Media Type",
    "POST a query as application/sparql-query, an update as application/sparql-update, or either as a form field `query` or `update`.",
  );
};
