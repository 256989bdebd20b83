import type { Quad, Term } from "@rdfjs/types";
import { negotiateMediaType } from "./content-negotiation";
import { compareCodeUnits, quadToNQuadsLine, quadToNTriplesLine, termToNTriples } from "./ntriples";
import { type JsonTerm, termToJson } from "./term-json";

export { type JsonTerm, termToJson } from "./term-json";

export interface JsonTriple {
  subject: JsonTerm;
  predicate: JsonTerm;
  object: JsonTerm;
  /** Present only for quads outside the default graph. */
  graph?: JsonTerm;
}

/** Added and removed quads normalized: set semantics, sorted by their N-Quads line. */
export interface GraphDiff {
  added: Quad[];
  removed: Quad[];
  /** Subjects of every added or removed quad, sorted by N-Triples form, without duplicates. */
  changedSubjects: Term[];
}

export interface GraphDiffCounts {
  added: number;
  removed: number;
  changedSubjects: number;
}

/** The diff document as JSON (`application/json`). */
export interface GraphDiffDocument {
  added: JsonTriple[];
  removed: JsonTriple[];
  changedSubjects: JsonTerm[];
  counts: GraphDiffCounts;
}

export const GRAPH_DIFF_MEDIA_TYPES = ["application/json", "application/n-triples"] as const;
export type GraphDiffMediaType = (typeof GRAPH_DIFF_MEDIA_TYPES)[number];

function sortedUnique(quads: Iterable<Quad>): Map<string, Quad> {
  const byLine = new Map<string, Quad>();
  for (const quad of quads) byLine.set(quadToNQuadsLine(quad), quad);
  return new Map([...byLine].sort(([a], [b]) => compareCodeUnits(a, b)));
}

/**
 * Normalizes the quads a version range scan produced: duplicates removed, a quad both added and removed
 * cancels out (no net change), output sorted so the same change always gives the same document.
 */
export function buildGraphDiff(added: Iterable<Quad>, removed: Iterable<Quad>): GraphDiff {
  const addedByLine = sortedUnique(added);
  const removedByLine = sortedUnique(removed);
  for (const line of [...addedByLine.keys()]) {
    if (removedByLine.delete(line)) addedByLine.delete(line);
  }
  const subjects = new Map<string, Term>();
  for (const quad of [...addedByLine.values(), ...removedByLine.values()]) {
    subjects.set(termToNTriples(quad.subject), quad.subject);
  }
  return {
    added: [...addedByLine.values()],
    removed: [...removedByLine.values()],
    changedSubjects: [...subjects].sort(([a], [b]) => compareCodeUnits(a, b)).map(([, term]) => term),
  };
}

export function graphDiffCounts(diff: GraphDiff): GraphDiffCounts {
  return { added: diff.added.length, removed: diff.removed.length, changedSubjects: diff.changedSubjects.length };
}

function quadToJson(quad: Quad): JsonTriple {
  const triple: JsonTriple = {
    subject: termToJson(quad.subject),
    predicate: termToJson(quad.predicate),
    object: termToJson(quad.object),
  };
  if (quad.graph.termType !== "DefaultGraph") triple.graph = termToJson(quad.graph);
  return triple;
}

/** The diff document `{ added, removed, changedSubjects, counts }` as plain JSON-ready data. */
export function graphDiffToJson(diff: GraphDiff): GraphDiffDocument {
  return {
    added: diff.added.map(quadToJson),
    removed: diff.removed.map(quadToJson),
    changedSubjects: diff.changedSubjects.map(termToJson),
    counts: graphDiffCounts(diff),
  };
}

function ntriplesBlock(quads: Quad[]): string {
  const lines = [...new Set(quads.map(quadToNTriplesLine))].sort(compareCodeUnits);
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/**
 * The diff as N-Triples: `added` and `removed` are each a valid N-Triples document (graph names dropped);
 * `document` joins them under `# added: N` / `# removed: M` comment headers, so it stays parseable N-Triples
 * while a reader can still split the two blocks.
 */
export function graphDiffToNTriples(diff: GraphDiff): { added: string; removed: string; document: string } {
  const added = ntriplesBlock(diff.added);
  const removed = ntriplesBlock(diff.removed);
  const counts = graphDiffCounts(diff);
  const subjects = diff.changedSubjects.map((subject) => `#   ${termToNTriples(subject)}`).join("\n");
  const document = [
    `# changed subjects: ${counts.changedSubjects}\n${subjects ? `${subjects}\n` : ""}`,
    `# added: ${counts.added}\n${added}`,
    `# removed: ${counts.removed}\n${removed}`,
  ].join("");
  return { added, removed, document };
}

/** The diff format for an `Accept` header (JSON by default); null when neither is acceptable (→ 406). */
export function pickGraphDiffFormat(acceptHeader: string | null | undefined): GraphDiffMediaType | null {
  return negotiateMediaType(acceptHeader, GRAPH_DIFF_MEDIA_TYPES);
}

/** The HTTP body for a diff in the chosen format. */
export function renderGraphDiff(diff: GraphDiff, mediaType: GraphDiffMediaType): string {
  return mediaType === "application/json"
    ? `${JSON.stringify(graphDiffToJson(diff))}\n`
    : graphDiffToNTriples(diff).document;
}
