import type { Context } from "hono";
import type { CommitView } from "../../../durable-objects/tenant/graph-service";
import { unwrap } from "../../../durable-objects/tenant/rpc-outcome";
import { MAX_CHANGE_BYTES } from "../../../shared/contracts/graphs";
import { type PlanName, planLimits, queryLimits } from "../../../shared/plans";
import { DocumentTooLargeError } from "../../../shared/rdf/errors";
import { parseRdf, RDF_MEDIA_TYPES, type RdfMediaType, serializeRdfSync } from "../../../shared/rdf/formats";
import { decodeUtf8 } from "../../../shared/rdf/utf8-text";
import type { AppEnv, TenantSnapshot } from "../../context";
import { HttpError } from "../../problems/http-error";
import { tenantObject } from "../../tenant-object-stub";

/** The verified tenant's Durable Object, which holds its graphs. */
export const graphStore = (c: Context<AppEnv>) => tenantObject(c.env, c.var.tenant);

const limitsOf = (c: Context<AppEnv>) => planLimits(c.var.tenant.plan as PlanName);

/** Where a version's content is served. */
export const versionLocation = (name: string, version: number) => `/v1/graphs/${name}/versions/${version}`;

/** The request body as text: 422 invalid-utf8 (naming the byte) rather than replacement characters. */
export async function utf8Body(c: Context<AppEnv>): Promise<string> {
  return decodeUtf8(new Uint8Array(await c.req.arrayBuffer()));
}

/**
 * Replaces a graph's content with an RDF document. The body streams into the tenant's Durable Object,
 * which parses, stores and hashes it as it arrives: nothing here reads it.
 */
export function replaceGraph(
  c: Context<AppEnv>,
  name: string,
  mediaType: RdfMediaType,
  body: ReadableStream<Uint8Array> | null,
): Promise<CommitView> {
  return ingestGraphDocument(c.env, c.var.tenant, name, mediaType, body);
}

/** Replaces a graph's content with a document streamed into the tenant's object (uploads and triggers). */
export async function ingestGraphDocument(
  env: Env,
  tenant: TenantSnapshot,
  name: string,
  mediaType: RdfMediaType,
  body: ReadableStream<Uint8Array> | null,
): Promise<CommitView> {
  const limits = planLimits(tenant.plan as PlanName);
  return unwrap(
    await tenantObject(env, tenant).graphIngest({
      name,
      mediaType,
      body,
      createdAt: new Date().toISOString(),
      tripleLimit: limits.triples,
      maxBytes: limits.maxRequestBodyBytes,
    }),
  );
}

/** 413 for a change above MAX_CHANGE_BYTES. */
function assertChangeSize(bytes: number, what: string): void {
  if (bytes <= MAX_CHANGE_BYTES) return;
  throw new HttpError(
    413,
    "payload-too-large",
    "Change too large",
    `The ${what} is ${bytes} bytes; one change carries at most ${MAX_CHANGE_BYTES}. Send it in parts, or replace the graph with PUT, which streams.`,
    { extensions: { limit: MAX_CHANGE_BYTES } },
  );
}

/** Applies a SPARQL 1.1 Update to a graph's latest version: a new version (PATCH and the Protocol's update). */
export async function updateGraph(c: Context<AppEnv>, name: string, update: string): Promise<CommitView> {
  assertChangeSize(utf8Length(update), "update");
  const createdAt = new Date().toISOString();
  return unwrap(
    await graphStore(c).graphUpdate({
      name,
      update,
      createdAt,
      tripleLimit: limitsOf(c).triples,
      now: createdAt,
      maxSteps: queryLimits(c.var.tenant.plan).maxSteps,
    }),
  );
}

/** A document's triples as N-Triples (graph names dropped) and the prefixes it declared, in order. */
async function asNTriples(
  text: string,
  mediaType: RdfMediaType,
  maxQuads: number,
): Promise<{ ntriples: string; prefixes: [string, string][] }> {
  const prefixes: [string, string][] = [];
  const quads = await parseRdf(text, mediaType, {
    maxQuads,
    onPrefix: (prefix, namespace) => prefixes.push([prefix, namespace]),
  });
  return { ntriples: serializeRdfSync(quads, RDF_MEDIA_TYPES.ntriples), prefixes };
}

/** Removes then adds the triples of two documents: a new version that keeps the previous prefixes plus the new. */
export async function patchGraph(
  c: Context<AppEnv>,
  name: string,
  change: { add?: string; remove?: string; mediaType: RdfMediaType },
): Promise<CommitView> {
  const tripleLimit = limitsOf(c).triples;
  const add = await asNTriples(change.add ?? "", change.mediaType, tripleLimit);
  const remove = await asNTriples(change.remove ?? "", change.mediaType, tripleLimit);
  assertChangeSize(utf8Length(add.ntriples) + utf8Length(remove.ntriples), "change as N-Triples");
  return unwrap(
    await graphStore(c).graphPatch({
      name,
      add: add.ntriples,
      remove: remove.ntriples,
      createdAt: new Date().toISOString(),
      tripleLimit,
      prefixes: [...remove.prefixes, ...add.prefixes],
    }),
  );
}

const utf8Length = (text: string) => new TextEncoder().encode(text).byteLength;

/** The request body within the plan's size limit, as text (for writes that need the whole document). */
export async function boundedUtf8Body(c: Context<AppEnv>): Promise<string> {
  const maxBytes = limitsOf(c).maxRequestBodyBytes;
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw new DocumentTooLargeError(maxBytes);
  return decodeUtf8(bytes);
}
