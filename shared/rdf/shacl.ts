import type { Quad, Term } from "@rdfjs/types";
import { DataFactory } from "n3";
import { Validator } from "shacl-engine";
import { WorkBudgetExceededError } from "../core/budget-errors";
import { RDF_TYPE, SH_NS, XSD_NS } from "../core/rdf-vocabulary";
import { RegexNotSupportedError } from "../regex/regex-errors";
import { RdfSyntaxError, ShapesError } from "./errors";
import { parseRdfSync, serializeRdfSync } from "./formats";
import { IndexedDataset } from "./indexed-dataset";
import { compareCodeUnits, termToNTriples } from "./ntriples";
import { compileLinearPattern, SH_PATTERN } from "./shacl-pattern";
import { assertShapeNesting } from "./shape-nesting";

export interface ShaclResult {
  /** The focus node, in N-Triples syntax (`<iri>`, `_:label`, or a literal). */
  focusNode: string;
  /** sh:resultPath as a SPARQL property path (`<p>`, `^<p>`, `<a>/<b>`, `(<a>|<b>)`, `<p>*`), or null. */
  path: string | null;
  /** sh:value in N-Triples syntax, or null. */
  value: string | null;
  /** The shape that produced the result, in N-Triples syntax (shapes may be blank nodes). */
  sourceShape: string;
  /** IRI of the constraint component, e.g. `http://www.w3.org/ns/shacl#MinCountConstraintComponent`. */
  sourceConstraintComponent: string;
  /** IRI of the severity: sh:Violation, sh:Warning or sh:Info. */
  severity: string;
  /** The first sh:resultMessage, or null. */
  message: string | null;
}

export interface ShaclReport {
  conforms: boolean;
  /** Sorted by focus node, path, shape, component and value, so equal inputs give equal reports. */
  results: ShaclResult[];
  /** The sh:ValidationReport graph as Turtle (sorted, deterministic blank-node labels). */
  turtle: string;
}

export interface ValidateShaclOptions {
  /** Base IRI for relative IRIs in the shapes Turtle. */
  baseIRI?: string;
}

interface PathStep {
  quantifier: "one" | "oneOrMore" | "zeroOrMore" | "zeroOrOne";
  start: "subject" | "object";
  predicates: Term[];
}

interface EngineResult {
  focusNode: { term: Term };
  path?: PathStep[] | null;
  value?: { terms: Term[] };
  shape: { ptr: { term: Term } };
  constraintComponent: Term;
  severity: Term;
  message: Term[];
}

interface EngineReport {
  conforms: boolean;
  results: EngineResult[];
  dataset: Iterable<Quad>;
}

function stepToString(step: PathStep): string {
  const [first] = step.predicates;
  if (step.predicates.length > 1) return `(${step.predicates.map(termToNTriples).join("|")})`;
  const predicate = first ? termToNTriples(first) : "";
  switch (step.quantifier) {
    case "oneOrMore":
      return `${predicate}+`;
    case "zeroOrMore":
      return `${predicate}*`;
    case "zeroOrOne":
      return `${predicate}?`;
    default:
      return step.start === "object" ? `^${predicate}` : predicate;
  }
}

function pathToString(path: PathStep[] | null | undefined): string | null {
  return path && path.length > 0 ? path.map(stepToString).join("/") : null;
}

// Report blank nodes are numbered per validation (`r0`, `r1`, …): n3's default labels come from a
// process-wide counter and would differ between runs in the same isolate.
function reportFactory() {
  let blankNodes = 0;
  return {
    ...DataFactory,
    blankNode: (name?: string) => DataFactory.blankNode(name ?? `r${blankNodes++}`),
    dataset: (quads?: Iterable<Quad>) => new IndexedDataset(quads),
  };
}

function rejectSparqlShapes(shapes: IndexedDataset): void {
  const sparql = shapes.match(null, DataFactory.namedNode(`${SH_NS}sparql`));
  const sparqlTargets = shapes.match(
    null,
    DataFactory.namedNode(RDF_TYPE),
    DataFactory.namedNode(`${SH_NS}SPARQLTarget`),
  );
  const select = shapes.match(null, DataFactory.namedNode(`${SH_NS}select`));
  if (sparql.size > 0 || sparqlTargets.size > 0 || select.size > 0) {
    throw new ShapesError(
      "SPARQL-based constraints and targets (sh:sparql, sh:select) are not supported; use SHACL Core",
    );
  }
}

function compareResults(a: ShaclResult, b: ShaclResult): number {
  return (
    compareCodeUnits(a.focusNode, b.focusNode) ||
    compareCodeUnits(a.path ?? "", b.path ?? "") ||
    compareCodeUnits(a.sourceShape, b.sourceShape) ||
    compareCodeUnits(a.sourceConstraintComponent, b.sourceConstraintComponent) ||
    compareCodeUnits(a.value ?? "", b.value ?? "") ||
    compareCodeUnits(a.message ?? "", b.message ?? "")
  );
}

/**
 * Validates a data graph against SHACL Core shapes (Turtle text or quads) with shacl-engine. Throws
 * RdfSyntaxError for invalid shapes Turtle, ShapesError for shapes the engine cannot use, NestingTooDeepError
 * for shapes that refer to shapes deeper than MAX_SHAPE_NESTING_DEPTH.
 */
export async function validateShacl(
  data: Iterable<Quad>,
  shapes: string | Iterable<Quad>,
  options: ValidateShaclOptions = {},
): Promise<ShaclReport> {
  const shapeQuads = typeof shapes === "string" ? parseRdfSync(shapes, "text/turtle", options) : [...shapes];
  assertShapeNesting(shapeQuads);
  const shapesDataset = new IndexedDataset(shapeQuads);
  rejectSparqlShapes(shapesDataset);
  const factory = reportFactory();
  let report: EngineReport;
  try {
    const validator = new Validator(shapesDataset, { factory, validations: [[SH_PATTERN, compileLinearPattern]] });
    report = (await validator.validate({ dataset: new IndexedDataset(data) })) as EngineReport;
  } catch (error) {
    if (
      error instanceof RdfSyntaxError ||
      error instanceof RegexNotSupportedError ||
      error instanceof WorkBudgetExceededError
    )
      throw error;
    // The engine's own refusals explain themselves; a runtime error's text (RangeError, TypeError) is internal.
    const message = error?.constructor === Error ? (error as Error).message : "the validator could not process it";
    throw new ShapesError(`The shapes graph cannot be used: ${message}`, { cause: error });
  }
  const results = report.results.map(
    (result): ShaclResult => ({
      focusNode: termToNTriples(result.focusNode.term),
      path: pathToString(result.path),
      value: result.value?.terms[0] ? termToNTriples(result.value.terms[0]) : null,
      sourceShape: termToNTriples(result.shape.ptr.term),
      sourceConstraintComponent: result.constraintComponent.value,
      severity: result.severity.value,
      message: result.message[0]?.value ?? null,
    }),
  );
  const turtle = serializeRdfSync(report.dataset, "text/turtle", {
    prefixes: { sh: SH_NS, xsd: XSD_NS },
  });
  return { conforms: report.conforms, results: results.sort(compareResults), turtle };
}
