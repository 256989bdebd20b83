import type * as RDF from "@rdfjs/types";
import { Writer } from "n3";
import oxigraph from "oxigraph";
import { isomorphic } from "rdf-isomorphic";
import { describe, expect, it } from "vitest";
import { runSparqlQuery } from "../../../shared/rdf/sparql/engine";
import { dataFactory, termKey } from "../../../shared/rdf/store/term-key";
import { generateLubm } from "../../support/lubm";
import { memoryQuadStore } from "../../support/sparql-store";

const PREFIXES = `PREFIX ub: <http://swat.cse.lehigh.edu/onto/univ-bench.owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
`;

const QUERIES: Record<string, string> = {
  selectiveBgp: `SELECT ?x ?n WHERE { ?x ub:worksFor <http://www.Department1.University0.edu/> ; ub:name ?n }`,
  star: `SELECT ?x ?n ?e ?a WHERE { ?x a ub:FullProfessor ; ub:name ?n ; ub:emailAddress ?e ; ub:age ?a }`,
  chain: `SELECT ?s ?p ?d WHERE { ?s ub:advisor ?p . ?p ub:worksFor ?d . ?d ub:subOrganizationOf ?u }`,
  triangle: `SELECT ?s ?c WHERE { ?s ub:advisor ?p . ?p ub:teacherOf ?c . ?s ub:takesCourse ?c }`,
  optional: `SELECT ?s ?p WHERE { ?s a ub:GraduateStudent OPTIONAL { ?s ub:advisor ?p } }`,
  optionalFilter: `SELECT ?s ?p WHERE { ?s a ub:GraduateStudent OPTIONAL { ?s ub:advisor ?p . ?p ub:age ?a FILTER(?a > 50) } }`,
  filterOrder: `SELECT ?s ?a WHERE { ?s ub:age ?a FILTER(?a >= 30 && ?a < 33) } ORDER BY DESC(?a) ?s LIMIT 25`,
  groupCount: `SELECT ?c (COUNT(?s) AS ?n) (MIN(?s) AS ?first) WHERE { ?s ub:takesCourse ?c } GROUP BY ?c HAVING (COUNT(?s) > 9)`,
  countPushdown: `SELECT ?c (COUNT(?s) AS ?n) (COUNT(DISTINCT ?s) AS ?d) (COUNT(*) AS ?all) WHERE { ?s ub:takesCourse ?c } GROUP BY ?c HAVING (COUNT(*) > 3)`,
  countNoGroup: `SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?p) AS ?advisors) WHERE { ?s ub:advisor ?p ; ub:memberOf ?d }`,
  aggregates: `SELECT ?d (AVG(?a) AS ?avg) (MAX(?a) AS ?max) (SAMPLE(?d) AS ?x) (COUNT(DISTINCT ?a) AS ?ages) WHERE { ?s ub:memberOf ?d ; ub:age ?a } GROUP BY ?d`,
  pathPlus: `SELECT ?x WHERE { <http://www.Department0.University0.edu/Student1> (ub:advisor/ub:worksFor/ub:subOrganizationOf)+ ?x }`,
  pathStar: `SELECT ?s ?o WHERE { ?s (ub:subOrganizationOf|^ub:worksFor)* ?o FILTER(?s = <http://www.Department2.University0.edu/>) }`,
  pathInverseSeq: `SELECT ?c ?s WHERE { <http://www.Department0.University0.edu/Professor1> ub:teacherOf/^ub:takesCourse ?s . ?s ub:takesCourse ?c }`,
  pathChainFree: `SELECT ?s ?u WHERE { ?s ub:advisor/ub:headOf/ub:subOrganizationOf* ?u }`,
  pathChainInverse: `SELECT ?h ?c WHERE { ?h ub:headOf/^ub:worksFor ?c }`,
  pathChainToConstant: `SELECT ?s WHERE { ?s ub:takesCourse/^ub:teacherOf/ub:worksFor <http://www.Department1.University0.edu/> }`,
  pathNegated: `SELECT ?o WHERE { <http://www.Department1.University0.edu/Professor2> !(rdf:type|ub:name|^ub:advisor) ?o }`,
  pathOptional: `SELECT ?x ?y WHERE { ?x ub:headOf? ?y . ?x a ub:FullProfessor }`,
  union: `SELECT ?x ?t WHERE { { ?x a ub:AssistantProfessor BIND("assistant" AS ?t) } UNION { ?x a ub:GraduateCourse BIND("course" AS ?t) } }`,
  minus: `SELECT ?s WHERE { ?s a ub:UndergraduateStudent MINUS { ?s ub:advisor ?p } }`,
  notExists: `SELECT ?s WHERE { ?s a ub:GraduateStudent FILTER NOT EXISTS { ?s ub:advisor ?p } }`,
  exists: `SELECT ?p WHERE { ?p ub:worksFor ?d FILTER EXISTS { ?s ub:advisor ?p ; ub:age 20 } }`,
  values: `SELECT ?x ?n WHERE { VALUES ?x { <http://www.Department0.University0.edu/Student3> <http://www.Department1.University0.edu/Professor0> <http://nowhere/> } OPTIONAL { ?x ub:name ?n } }`,
  subquery: `SELECT ?d ?n WHERE { ?d a ub:Department { SELECT ?d (COUNT(*) AS ?n) WHERE { ?s ub:memberOf ?d } GROUP BY ?d } }`,
  distinctBind: `SELECT DISTINCT ?len WHERE { ?c a ub:Course ; ub:name ?n BIND(STRLEN(?n) AS ?len) }`,
  offset: `SELECT ?s WHERE { ?s a ub:Publication } ORDER BY ?s OFFSET 40 LIMIT 7`,
  concat: `SELECT ?p (GROUP_CONCAT(?n; SEPARATOR="|") AS ?cs) WHERE { ?p ub:headOf ?d . ?d ub:subOrganizationOf/ub:name ?n } GROUP BY ?p ORDER BY ?p LIMIT 5`,
  crossProduct: `SELECT ?a ?b WHERE { ?a ub:headOf ?d1 . ?b ub:headOf ?d2 FILTER(?a != ?b) }`,
  graphVar: `SELECT ?g ?x WHERE { GRAPH ?g { ?x ub:headOf ?d } }`,
};

function solutionKeys(variables: string[], rows: ReadonlyMap<string, RDF.Term>[]): string[] {
  return rows
    .map((row) => variables.map((name) => (row.get(name) ? termKey(row.get(name) as RDF.Term) : "-")).join(" "))
    .sort();
}

describe("differential: our engine vs oxigraph on generated LUBM-like data", () => {
  const triples = [...generateLubm(3000, 7)];
  const store = memoryQuadStore({ main: triples, extra: triples.slice(0, 400) });
  const reference = new oxigraph.Store();
  const writer = new Writer({ format: "N-Triples" });
  reference.load(writer.quadsToString(triples), { format: "application/n-triples" });
  reference.load(writer.quadsToString(triples.slice(0, 400)), {
    format: "application/n-triples",
    to_graph_name: oxigraph.namedNode("urn:graph:extra"),
  });
  const options = {
    dataset: {
      defaultGraph: [store.graphRef("main")],
      namedGraphs: [{ iri: "urn:graph:extra", ref: store.graphRef("extra") }],
    },
    now: new Date("2026-01-01T00:00:00Z"),
  };

  for (const [name, body] of Object.entries(QUERIES)) {
    it(name, () => {
      const query = PREFIXES + body;
      const ours = runSparqlQuery(store, query, options);
      const theirs = reference.query(query, { use_default_graph_as_union: false }) as Map<string, RDF.Term>[];
      if (ours.type !== "bindings") throw new Error("expected bindings");
      expect(ours.bindings.length).toBeGreaterThan(0);
      const ordered = /ORDER BY/.test(body);
      const mine = solutionKeys(ours.variables, ours.bindings);
      const oracle = solutionKeys(ours.variables, theirs);
      expect(mine).toEqual(oracle);
      if (ordered) {
        const sequence = (rows: ReadonlyMap<string, RDF.Term>[]) =>
          rows.map((row) => termKey(row.get(ours.variables[0] as string) as RDF.Term));
        expect(sequence(ours.bindings)).toEqual(sequence(theirs));
      }
    });
  }

  it("ASK and CONSTRUCT agree", () => {
    for (const body of ["ASK { ?x ub:headOf ?d }", "ASK { ?x ub:headOf ?x }"]) {
      const ours = runSparqlQuery(store, PREFIXES + body, options);
      expect(ours).toEqual({ type: "boolean", value: reference.query(PREFIXES + body) });
    }
    const construct = `CONSTRUCT { ?d ub:head ?p . ?p ub:label [ ub:text ?n ] } WHERE { ?p ub:headOf ?d ; ub:name ?n }`;
    const ours = runSparqlQuery(store, PREFIXES + construct, options);
    const theirs = reference.query(PREFIXES + construct) as RDF.Quad[];
    if (ours.type !== "quads") throw new Error("expected quads");
    expect(ours.quads.length).toBe(theirs.length);
    const converted = theirs.map((quad) => dataFactory.quad(quad.subject, quad.predicate, quad.object));
    expect(isomorphic(ours.quads, converted)).toBe(true);
  });
});

// oxigraph's xsd:decimal keeps 18 fractional digits, so the data stays within that.
describe("differential: numeric FILTER pre-selection in SQL keeps exact FILTER semantics", () => {
  const turtle = `@prefix : <http://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    :a :v 60 . :b :v 61 . :c :v "61"^^xsd:int . :d :v 60.5 . :e :v 6.1E1 . :f :v "INF"^^xsd:double .
    :g :v "-INF"^^xsd:double . :h :v "NaN"^^xsd:double . :i :v "61" . :j :v "abc"^^xsd:integer . :k :v :iri .
    :l :v "60.0000000000001"^^xsd:decimal . :m :v "1e400"^^xsd:double . :n :v "59.999999999999999"^^xsd:decimal .
    :o :v "0061"^^xsd:integer . :p :v "61"^^xsd:unsignedByte . :q :v true .`;
  const store = memoryQuadStore({ main: turtle });
  const reference = new oxigraph.Store();
  reference.load(turtle, { format: "text/turtle" });
  const options = { dataset: { defaultGraph: [store.graphRef("main")], namedGraphs: [] }, now: new Date(0) };
  const filters = ["?v > 60", "?v >= 60", "?v = 61", "?v < 60.5", "60 < ?v && ?v <= 61", "?v = 6.1E1", "?v > -1e300"];
  for (const filter of filters) {
    it(filter, () => {
      const query = `SELECT ?s WHERE { ?s <http://example.org/v> ?v FILTER(${filter}) }`;
      const ours = runSparqlQuery(store, query, options);
      if (ours.type !== "bindings") throw new Error("expected bindings");
      const theirs = reference.query(query) as Map<string, RDF.Term>[];
      expect(solutionKeys(["s"], ours.bindings).join(" ")).toEqual(solutionKeys(["s"], theirs).join(" "));
    });
  }
});

describe("differential: OPTIONAL pushed into SQL", () => {
  const turtle = `@prefix : <http://example.org/> .
    :a :p :x ; :q 1, 2 . :b :p :y . :c :p :x ; :q 3 . :x :r :a . :y :r :q .`;
  const store = memoryQuadStore({ main: turtle });
  const reference = new oxigraph.Store();
  reference.load(turtle, { format: "text/turtle" });
  const options = { dataset: { defaultGraph: [store.graphRef("main")], namedGraphs: [] }, now: new Date(0) };
  const queries = [
    "SELECT ?s ?v WHERE { ?s :p ?o OPTIONAL { ?s :q ?v } }",
    "SELECT ?s ?o ?z WHERE { ?s :p ?o OPTIONAL { ?o :r ?s ; :r ?z } }",
    "SELECT ?s ?w WHERE { ?s :p :x OPTIONAL { ?w :r ?w2 } }",
    "SELECT ?s ?v WHERE { ?s :p ?o OPTIONAL { ?s :missing ?v } }",
    "SELECT ?s ?v WHERE { ?s :p ?o OPTIONAL { ?s :q ?v ; :p :y } }",
  ];
  for (const body of queries) {
    it(body, () => {
      const query = `PREFIX : <http://example.org/> ${body}`;
      const ours = runSparqlQuery(store, query, options);
      if (ours.type !== "bindings") throw new Error("expected bindings");
      const theirs = reference.query(query) as Map<string, RDF.Term>[];
      expect(solutionKeys(ours.variables, ours.bindings)).toEqual(solutionKeys(ours.variables, theirs));
    });
  }
});
