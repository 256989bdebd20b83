import { z } from "zod";

/** A tenant's graph name: 1–128 of letters, digits, '.', '_', '-', starting with a letter or digit. */
export const GRAPH_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const graphNameSchema = z.string().regex(GRAPH_NAME, "1–128 of letters, digits, '.', '_', '-'");

const VERSION_NUMBER = /^\d{1,9}$/;

/** A version number in a path or query string. */
export const versionNumberSchema = z.string().regex(VERSION_NUMBER, "a version number").transform(Number);

export const graphParamsSchema = z.object({ name: graphNameSchema });

export const graphVersionParamsSchema = z.object({
  name: graphNameSchema,
  version: z
    .union([z.literal("latest"), z.string().regex(VERSION_NUMBER, "a version number or latest")])
    .describe("A version number, or `latest`."),
});

/**
 * A version's content hash (its `hash`) beside its number. Numbers start again when a graph is deleted
 * and created anew; the hash does not, so an answer pinned by both never changes and is cached at the edge.
 */
const pinnedContentHash = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, "a version's hash as reported: sha256:<64 lowercase hex>")
  .optional()
  .describe("The version's content hash (its `hash`): pins the content; the answer is then cached at the edge.");

export const graphVersionContentQuerySchema = z.object({ hash: pinnedContentHash });

export const graphVersionSchema = z
  .object({
    graph: z.string(),
    version: z.number().int().positive(),
    hash: z.string().nullable().describe("RDFC-1.0 canonical SHA-256 of the version (hex)."),
    triples: z.number().int().nonnegative(),
    added: z.number().int().nonnegative(),
    removed: z.number().int().nonnegative(),
    createdAt: z.string(),
  })
  .meta({ id: "GraphVersion" });

export const graphVersionListSchema = z.object({ items: z.array(graphVersionSchema) }).meta({ id: "GraphVersionList" });

export const graphPatchSchema = z
  .object({
    add: z.string().optional().describe("Turtle: triples to add."),
    remove: z.string().optional().describe("Turtle: triples to remove."),
  })
  .strict()
  .refine((patch) => patch.add !== undefined || patch.remove !== undefined, { message: "Give add, remove or both." })
  .meta({ id: "GraphPatch" });

export const graphDiffQuerySchema = z.object({ from: versionNumberSchema, to: versionNumberSchema });

export const graphDiffSchema = z
  .object({
    graph: z.string(),
    from: z.number().int(),
    to: z.number().int(),
    added: z.array(z.record(z.string(), z.unknown())).describe("Added triples as RDF/JS-shaped terms."),
    removed: z.array(z.record(z.string(), z.unknown())),
    changedSubjects: z.array(z.record(z.string(), z.unknown())),
    counts: z.record(z.string(), z.number().int()),
  })
  .meta({ id: "GraphDiff" });

export const versionQuerySchema = z.object({ version: versionNumberSchema.optional() });

/**
 * The Protocol's dataset parameters. The endpoint is one graph, so they are refused by name rather
 * than ignored: a query names other graphs with FROM / FROM NAMED itself.
 */
const datasetParameter = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .refine((value) => value === undefined, {
    message:
      "Not supported here: this endpoint is one graph; name other graphs with FROM or FROM NAMED <urn:kgen:graph:NAME>.",
  })
  .describe("Not supported: the endpoint is one graph (use FROM / FROM NAMED in the query).");

/** SPARQL 1.1 Protocol parameters in a query string or a form (`query` for queries, `update` for updates). */
export const sparqlParamsSchema = z.object({
  query: z.string().optional().describe("A SPARQL 1.1 query."),
  update: z.string().optional().describe("A SPARQL 1.1 update (POST only): makes a new version."),
  version: versionNumberSchema.optional().describe("Query this version instead of the latest."),
  hash: pinnedContentHash,
  "default-graph-uri": datasetParameter,
  "named-graph-uri": datasetParameter,
  "using-graph-uri": datasetParameter,
  "using-named-graph-uri": datasetParameter,
});

/** A SPARQL 1.1 Protocol form body: `query` or `update`. */
export const sparqlFormSchema = sparqlParamsSchema.omit({ version: true, hash: true });

export const shaclReportSchema = z
  .object({
    conforms: z.boolean(),
    results: z.array(z.record(z.string(), z.unknown())),
  })
  .meta({ id: "ShaclReport" });

/** SPARQL 1.1 Graph Store HTTP Protocol: the graph is this resource's default graph (`?default`). */
export const graphStoreQuerySchema = z
  .object({
    default: z.string().optional().describe("Present (empty): the default graph, which is this graph."),
    graph: z.string().optional().describe("Not served: each graph has its own store endpoint."),
  })
  .refine((query) => query.default !== undefined && query.graph === undefined, {
    message: "Address the graph as ?default; named graphs are other graphs' store endpoints.",
    path: ["default"],
  });

/**
 * Bytes one change may carry to the tenant's object (a merge's or PATCH's N-Triples, add and remove
 * together; a SPARQL update's text): it travels as one RPC argument, which the platform refuses above
 * 32 MiB. Only a PUT streams its body.
 */
export const MAX_CHANGE_BYTES = 24 * 1024 * 1024;
