import type * as RDF from "@rdfjs/types";
import jsonld, { type JsonLdQuad, type JsonLdTerm, type RemoteDocument } from "jsonld";
import { DataFactory, Parser, type Quad, type Term, Writer } from "n3";
import { NestingTooDeepError } from "../core/budget-errors";
import { assertJsonTextDepth } from "../core/json-nesting";
import { XSD_STRING } from "../core/rdf-vocabulary";
import {
  JsonLdDocumentError,
  QuadLimitExceededError,
  RdfSyntaxError,
  RelativeIriError,
  RemoteContextRefusedError,
  UnsupportedMediaTypeError,
} from "./errors";
import { jsonErrorOffset } from "./json-error-position";
import { compareCodeUnits, joinSortedLines, quadToNQuadsLine, quadToNTriplesLine, termToNTriples } from "./ntriples";

export const RDF_MEDIA_TYPES = {
  turtle: "text/turtle",
  trig: "application/trig",
  ntriples: "application/n-triples",
  nquads: "application/n-quads",
  jsonld: "application/ld+json",
} as const;

export type RdfMediaType = (typeof RDF_MEDIA_TYPES)[keyof typeof RDF_MEDIA_TYPES];

/** Every media type we parse and serialize, in the server's order of preference for content negotiation. */
export const SUPPORTED_RDF_MEDIA_TYPES: readonly RdfMediaType[] = [
  RDF_MEDIA_TYPES.turtle,
  RDF_MEDIA_TYPES.trig,
  RDF_MEDIA_TYPES.ntriples,
  RDF_MEDIA_TYPES.nquads,
  RDF_MEDIA_TYPES.jsonld,
];

// Legacy or unregistered names that clients still send.
const MEDIA_TYPE_ALIASES: Record<string, RdfMediaType> = {
  "application/x-turtle": RDF_MEDIA_TYPES.turtle,
  "application/turtle": RDF_MEDIA_TYPES.turtle,
  "application/x-trig": RDF_MEDIA_TYPES.trig,
  "text/x-nquads": RDF_MEDIA_TYPES.nquads,
};

/** Whether the format can carry named graphs (TriG, N-Quads, JSON-LD) or only triples (Turtle, N-Triples). */
export function isDatasetFormat(mediaType: RdfMediaType): boolean {
  return mediaType !== RDF_MEDIA_TYPES.turtle && mediaType !== RDF_MEDIA_TYPES.ntriples;
}

/** Maps a media type (parameters such as `charset` ignored, case-insensitive) to the one we handle, or throws. */
export function normalizeRdfMediaType(mediaType: string): RdfMediaType {
  const essence = (mediaType.split(";")[0] ?? "").trim().toLowerCase();
  if ((SUPPORTED_RDF_MEDIA_TYPES as readonly string[]).includes(essence)) return essence as RdfMediaType;
  const alias = MEDIA_TYPE_ALIASES[essence];
  if (alias) return alias;
  throw new UnsupportedMediaTypeError(mediaType, SUPPORTED_RDF_MEDIA_TYPES);
}

export interface ParseRdfOptions {
  /** Base IRI that relative IRIs resolve against. */
  baseIRI?: string;
  /** Parsing stops with QuadLimitExceededError as soon as the document yields more quads than this. */
  maxQuads?: number;
  /**
   * Called for the prefixes the document declares (Turtle, TriG; JSON-LD contexts are not reported): as they
   * are read when streaming, after the parse (the last namespace of each) when synchronous.
   */
  onPrefix?: (prefix: string, namespace: string) => void;
}

export const n3Formats: Record<Exclude<RdfMediaType, "application/ld+json">, string> = {
  "text/turtle": "text/turtle",
  "application/trig": "application/trig",
  "application/n-triples": "application/n-triples",
  "application/n-quads": "application/n-quads",
};

// Document labels become `b_<label>` and anonymous nodes `n_<k>`, numbered per parse: stable across isolates
// (n3's own labels come from a process-wide counter) and never colliding with each other.
export const LABELED_BLANK_PREFIX = "b_";
const ANONYMOUS_BLANK_PREFIX = "n_";

export function countingFactory(maxQuads: number): typeof DataFactory {
  let quadCount = 0;
  let anonymousCount = 0;
  return {
    ...DataFactory,
    blankNode: (name?: string) => DataFactory.blankNode(name ?? `${ANONYMOUS_BLANK_PREFIX}${anonymousCount++}`),
    quad: ((subject: Quad["subject"], predicate: Quad["predicate"], object: Quad["object"], graph?: Quad["graph"]) => {
      quadCount += 1;
      if (quadCount > maxQuads) throw new QuadLimitExceededError(maxQuads);
      return DataFactory.quad(subject, predicate, object, graph);
    }) as typeof DataFactory.quad,
  };
}

/**
 * Collections, blank-node property lists, formulas and quoted triples nest at most this deep in Turtle,
 * TriG and N3 syntax (and brackets in SPARQL updates): each level becomes a blank node whose canonical
 * labeling work grows with the depth of the chain it sits in.
 */
export const MAX_RDF_NESTING_DEPTH = 64;

interface N3ErrorContext {
  line?: number;
  token?: { line: number; start?: number };
  previousToken?: { line: number; endLine?: number; end?: number };
}

/** n3's parser state our guards read and wrap (n3 2.x). */
interface N3ParserInternals {
  _contextStack: unknown[];
  /** Prefix → namespace IRI after the parse; `_` is the parser's own blank-node label prefix. */
  _prefixes: Record<string, string>;
  _base: string;
  _lexer: { _line: number; previousToken?: N3ErrorContext["previousToken"] };
  _saveContext(type: string, graph: unknown, subject: unknown, predicate: unknown, object: unknown): void;
  _resolveRelativeIRI(iri: string): string | null;
}

/** A guard stopped n3 at the token being read; the position is resolved against the text by n3ParseError. */
class ParserRefusal extends Error {
  constructor(
    readonly refusal: "nesting" | "relative-iri",
    readonly context: N3ErrorContext,
  ) {
    super(refusal);
  }
}

// The lexer has just emitted the token being read: it is on the lexer's current line, after the previous token.
const currentTokenContext = (parser: N3ParserInternals): N3ErrorContext => ({
  line: parser._lexer._line,
  previousToken: parser._lexer.previousToken,
});

/**
 * An n3 parser that refuses nesting beyond MAX_RDF_NESTING_DEPTH as it opens the level, and relative IRIs
 * when no base is known. Both checks sit where n3 opens a scope or resolves a relative IRI, never per token.
 */
export function createN3Parser(format: Exclude<RdfMediaType, "application/ld+json">, options: ParseRdfOptions): Parser {
  const parser = new Parser({
    format: n3Formats[format],
    baseIRI: options.baseIRI,
    blankNodePrefix: `_:${LABELED_BLANK_PREFIX}`,
    factory: countingFactory(options.maxQuads ?? Number.POSITIVE_INFINITY),
  });
  const internals = parser as unknown as N3ParserInternals;
  const saveContext = internals._saveContext;
  internals._saveContext = function (this: N3ParserInternals, type, graph, subject, predicate, object) {
    if (this._contextStack.length >= MAX_RDF_NESTING_DEPTH)
      throw new ParserRefusal("nesting", currentTokenContext(this));
    saveContext.call(this, type, graph, subject, predicate, object);
  };
  // N-Triples and N-Quads already reject relative IRIs as syntax errors.
  if (format !== RDF_MEDIA_TYPES.ntriples && format !== RDF_MEDIA_TYPES.nquads) {
    const resolveRelative = internals._resolveRelativeIRI;
    internals._resolveRelativeIRI = function (this: N3ParserInternals, iri: string) {
      if (this._base === "") throw new ParserRefusal("relative-iri", currentTokenContext(this));
      return resolveRelative.call(this, iri);
    };
  }
  return parser;
}

/** The prefixes a finished parse declared (the last namespace of each), in order of first declaration. */
function declaredPrefixes(parser: Parser): [string, string][] {
  const prefixes = (parser as unknown as N3ParserInternals)._prefixes;
  return Object.entries(prefixes).filter(([prefix]) => prefix !== "_");
}

function lineText(text: string, line: number): string {
  return text.split(/\r\n|\n|\r/)[line - 1] ?? "";
}

// n3 reports the line; the column comes from the offending token, or (lexer errors) from the first
// non-blank character after the previous token on that line.
function n3ErrorPosition(context: N3ErrorContext, text: string, firstLine: number) {
  const line = context.token?.line ?? context.line;
  let column: number | undefined;
  if (context.token && typeof context.token.start === "number") {
    column = context.token.start + 1;
  } else if (line !== undefined) {
    const previous = context.previousToken;
    const from = previous && (previous.endLine ?? previous.line) === line ? (previous.end ?? 0) : 0;
    const rest = lineText(text, line - firstLine + 1).slice(from);
    column = from + (rest.length - rest.trimStart().length) + 1;
  }
  return { line, column };
}

/**
 * The typed error for a failed n3 parse: NestingTooDeepError or RelativeIriError from our guards, else
 * RdfSyntaxError. `text` is the document, or a window of it whose first line is line `firstLine`.
 */
export function n3ParseError(error: Error, text: string, mediaType: RdfMediaType, firstLine = 1): Error {
  const context = (error as Error & { context?: N3ErrorContext }).context ?? {};
  const { line, column } = n3ErrorPosition(context, text, firstLine);
  if (error instanceof ParserRefusal) {
    if (error.refusal === "relative-iri") return new RelativeIriError(mediaType, line, column);
    return new NestingTooDeepError(mediaType, MAX_RDF_NESTING_DEPTH, { line, column });
  }
  return new RdfSyntaxError(error.message, mediaType, line, column, { cause: error });
}

/** Parses Turtle, TriG, N-Triples or N-Quads synchronously (JSON-LD needs parseRdf, which is async). */
export function parseRdfSync(text: string, mediaType: string, options: ParseRdfOptions = {}): Quad[] {
  const format = normalizeRdfMediaType(mediaType);
  if (format === RDF_MEDIA_TYPES.jsonld) {
    throw new UnsupportedMediaTypeError(`${mediaType} (synchronous parsing)`, Object.values(n3Formats));
  }
  const parser = createN3Parser(format, options);
  try {
    const quads = parser.parse(text);
    // Read back rather than passed to parse(): with a prefix callback n3 lexes the whole document before
    // parsing it, and the nesting guard's position would be the document's end.
    if (options.onPrefix)
      for (const [prefix, namespace] of declaredPrefixes(parser)) options.onPrefix(prefix, namespace);
    return quads;
  } catch (error) {
    if (error instanceof QuadLimitExceededError) throw error;
    if (error instanceof Error) throw n3ParseError(error, text, format);
    throw error;
  }
}

const refuseRemoteDocuments = async (url: string): Promise<RemoteDocument> => {
  throw new RemoteContextRefusedError(url);
};

function findRemoteRefusal(error: unknown): RemoteContextRefusedError | undefined {
  for (let current = error, depth = 0; current && depth < 8; depth++) {
    if (current instanceof RemoteContextRefusedError) return current;
    const withCause = current as { cause?: unknown; details?: { cause?: unknown } };
    current = withCause.details?.cause ?? withCause.cause;
  }
  return undefined;
}

function jsonSyntaxError(error: SyntaxError, text: string): RdfSyntaxError {
  const offset = jsonErrorOffset(text);
  let line: number | undefined;
  let column: number | undefined;
  if (offset >= 0) {
    const lines = text.slice(0, offset).split(/\r\n|\n|\r/);
    line = lines.length;
    column = (lines.at(-1)?.length ?? 0) + 1;
  }
  const where = line === undefined ? "" : ` on line ${line}, column ${column}`;
  return new RdfSyntaxError(`Invalid JSON${where}: ${error.message}`, RDF_MEDIA_TYPES.jsonld, line, column, {
    cause: error,
  });
}

function fromJsonLdTerm(term: JsonLdTerm): Term {
  switch (term.termType) {
    case "NamedNode":
      return DataFactory.namedNode(term.value);
    case "BlankNode":
      return DataFactory.blankNode(`${LABELED_BLANK_PREFIX}${term.value.replace(/^_:/, "")}`);
    case "Literal":
      return DataFactory.literal(
        term.value,
        term.language ? term.language : DataFactory.namedNode(term.datatype?.value ?? XSD_STRING),
      );
    case "DefaultGraph":
      return DataFactory.defaultGraph();
  }
}

async function parseJsonLd(text: string, options: ParseRdfOptions): Promise<Quad[]> {
  assertJsonTextDepth(text, RDF_MEDIA_TYPES.jsonld);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) throw jsonSyntaxError(error, text);
    throw error;
  }
  if (typeof document !== "object" || document === null) {
    throw new JsonLdDocumentError(document === null ? "null" : `a ${typeof document}`);
  }
  let dataset: JsonLdQuad[];
  try {
    dataset = await jsonld.toRDF(document, { base: options.baseIRI ?? null, documentLoader: refuseRemoteDocuments });
  } catch (error) {
    const refusal = findRemoteRefusal(error);
    if (refusal) throw refusal;
    const message = error instanceof Error ? error.message : String(error);
    throw new RdfSyntaxError(`Invalid JSON-LD: ${message}`, RDF_MEDIA_TYPES.jsonld, undefined, undefined, {
      cause: error,
    });
  }
  const maxQuads = options.maxQuads ?? Number.POSITIVE_INFINITY;
  // jsonld expands the whole document before yielding quads, so the limit applies after expansion.
  if (dataset.length > maxQuads) throw new QuadLimitExceededError(maxQuads);
  return dataset.map((quad) =>
    DataFactory.quad(
      fromJsonLdTerm(quad.subject) as Quad["subject"],
      fromJsonLdTerm(quad.predicate) as Quad["predicate"],
      fromJsonLdTerm(quad.object) as Quad["object"],
      fromJsonLdTerm(quad.graph) as Quad["graph"],
    ),
  );
}

/**
 * Parses an RDF document into RDF/JS quads (n3 DataFactory). Throws UnsupportedMediaTypeError for an unknown
 * media type, RdfSyntaxError (with line/column where known) for invalid input, QuadLimitExceededError when
 * the document has more than `maxQuads` quads, RemoteContextRefusedError when JSON-LD needs a remote context.
 */
export async function parseRdf(text: string, mediaType: string, options: ParseRdfOptions = {}): Promise<Quad[]> {
  const format = normalizeRdfMediaType(mediaType);
  if (format === RDF_MEDIA_TYPES.jsonld) return parseJsonLd(text, options);
  return parseRdfSync(text, format, options);
}

export interface SerializeRdfOptions {
  /** Prefix → namespace IRI, used by Turtle, TriG (prefixed names) and JSON-LD (compaction context). */
  prefixes?: Record<string, string>;
}

function sortedPrefixes(prefixes: Record<string, string> = {}): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(prefixes).sort(compareCodeUnits)) sorted[key] = prefixes[key] as string;
  return sorted;
}

/** Quads in the stable order (graph, subject, predicate, object by their N-Triples form), duplicates removed. */
export function sortQuads(quads: Iterable<RDF.Quad>, dropGraphs = false): RDF.Quad[] {
  const byKey = new Map<string, RDF.Quad>();
  for (const quad of quads) {
    const effective = dropGraphs ? DataFactory.quad(quad.subject, quad.predicate, quad.object) : quad;
    const key = `${termToNTriples(effective.graph)}\u0000${quadToNTriplesLine(effective)}`;
    if (!byKey.has(key)) byKey.set(key, effective);
  }
  return [...byKey.keys()].sort(compareCodeUnits).map((key) => byKey.get(key) as RDF.Quad);
}

function writeWithN3(
  quads: RDF.Quad[],
  format: "Turtle" | "application/trig",
  prefixes: Record<string, string>,
): string {
  const writer = new Writer({ format, prefixes });
  writer.addQuads(quads);
  let output = "";
  writer.end((error, result: string) => {
    if (error) throw error;
    output = result;
  });
  return output;
}

/** Serializes Turtle, TriG, N-Triples or N-Quads synchronously and deterministically (sorted, deduplicated). */
export function serializeRdfSync(
  quads: Iterable<RDF.Quad>,
  mediaType: string,
  options: SerializeRdfOptions = {},
): string {
  const format = normalizeRdfMediaType(mediaType);
  switch (format) {
    case RDF_MEDIA_TYPES.ntriples:
      return joinSortedLines(Array.from(quads, quadToNTriplesLine));
    case RDF_MEDIA_TYPES.nquads:
      return joinSortedLines(Array.from(quads, quadToNQuadsLine));
    case RDF_MEDIA_TYPES.turtle:
      return writeWithN3(sortQuads(quads, true), "Turtle", sortedPrefixes(options.prefixes));
    case RDF_MEDIA_TYPES.trig:
      return writeWithN3(sortQuads(quads), "application/trig", sortedPrefixes(options.prefixes));
    default:
      throw new UnsupportedMediaTypeError(`${mediaType} (synchronous serialization)`, Object.values(n3Formats));
  }
}

/**
 * Serializes quads deterministically: N-Triples/N-Quads as sorted canonical lines, Turtle/TriG grouped by
 * sorted subject, JSON-LD expanded (or compacted with `prefixes` as context). Triple formats (Turtle,
 * N-Triples) write the union of all graphs.
 */
export async function serializeRdf(
  quads: Iterable<RDF.Quad>,
  mediaType: string,
  options: SerializeRdfOptions = {},
): Promise<string> {
  const format = normalizeRdfMediaType(mediaType);
  if (format !== RDF_MEDIA_TYPES.jsonld) return serializeRdfSync(quads, format, options);
  const nquads = joinSortedLines(Array.from(quads, quadToNQuadsLine));
  const expanded = await jsonld.fromRDF(nquads, { format: "application/n-quads" });
  const context = sortedPrefixes(options.prefixes);
  const document =
    Object.keys(context).length === 0
      ? expanded
      : await jsonld.compact(expanded, { "@context": context }, { documentLoader: refuseRemoteDocuments });
  return `${JSON.stringify(document, null, 2)}\n`;
}
