import type * as RDF from "@rdfjs/types";
import type { Algebra } from "sparqlalgebrajs";
import { dataFactory, termKey } from "../../store/term-key";
import type { Evaluator } from "../evaluate/evaluator";
import type { Bindings } from "../expressions";

function instantiate(term: RDF.Term, row: Bindings, rowIndex: number): RDF.Term | undefined {
  if (term.termType === "Variable") return row.get(term.value);
  if (term.termType === "BlankNode") return dataFactory.blankNode(`t${rowIndex}_${term.value}`);
  return term;
}

/** CONSTRUCT: the template instantiated per solution; invalid triples are dropped; the result is a set. */
export function construct(template: RDF.BaseQuad[], rows: Bindings[]): RDF.Quad[] {
  const seen = new Set<string>();
  const quads: RDF.Quad[] = [];
  rows.forEach((row, rowIndex) => {
    for (const pattern of template) {
      const subject = instantiate(pattern.subject, row, rowIndex);
      const predicate = instantiate(pattern.predicate, row, rowIndex);
      const object = instantiate(pattern.object, row, rowIndex);
      if (!subject || !predicate || !object) continue;
      if (subject.termType !== "NamedNode" && subject.termType !== "BlankNode") continue;
      if (predicate.termType !== "NamedNode") continue;
      if (object.termType === "Variable" || object.termType === "DefaultGraph" || object.termType === "Quad") continue;
      const key = `${termKey(subject)} ${termKey(predicate)} ${termKey(object)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      quads.push(dataFactory.quad(subject, predicate, object));
    }
  });
  return quads;
}

/** DESCRIBE: the concise bounded description (outgoing triples, following blank nodes) of each resource. */
export function describe(evaluator: Evaluator, op: Algebra.Describe): RDF.Quad[] {
  const resources: RDF.Term[] = [];
  const variables = op.terms.filter((term: RDF.Term) => term.termType === "Variable");
  for (const term of op.terms) if (term.termType === "NamedNode") resources.push(term);
  if (variables.length > 0) {
    for (const row of evaluator.evaluate(op.input, new Map(), evaluator.defaultGraph)) {
      for (const variable of variables) {
        const value = row.get(variable.value);
        if (value && (value.termType === "NamedNode" || value.termType === "BlankNode")) resources.push(value);
      }
    }
  }
  const seenResources = new Set<string>();
  const seenTriples = new Set<string>();
  const quads: RDF.Quad[] = [];
  const s = dataFactory.variable("s");
  const p = dataFactory.variable("p");
  const o = dataFactory.variable("o");
  const pattern = dataFactory.quad(s, p, o);
  while (resources.length > 0) {
    const resource = resources.shift() as RDF.Term;
    const key = termKey(resource);
    if (seenResources.has(key)) continue;
    seenResources.add(key);
    const rows = evaluator.evaluateBgp([pattern], new Map([["s", resource]]), evaluator.defaultGraph);
    for (const row of rows) {
      const predicate = row.get("p") as RDF.NamedNode;
      const object = row.get("o") as RDF.Quad_Object;
      const tripleKey = `${key} ${termKey(predicate)} ${termKey(object)}`;
      if (seenTriples.has(tripleKey)) continue;
      seenTriples.add(tripleKey);
      quads.push(dataFactory.quad(resource as RDF.Quad_Subject, predicate, object));
      if (object.termType === "BlankNode") resources.push(object);
    }
  }
  return quads;
}
