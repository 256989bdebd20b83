import { describe, expect, it } from "vitest";
import { parseQuery } from "../../../shared/rdf/sparql/parse/parse";
import { answerDependsOnlyOnDefaultGraph } from "../../../shared/rdf/sparql/parse/pinned-query";

const fixed = (query: string) => answerDependsOnlyOnDefaultGraph(parseQuery(query));

describe("answerDependsOnlyOnDefaultGraph", () => {
  it("accepts queries over the default graph alone", () => {
    expect(fixed("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s")).toBe(true);
    expect(fixed("ASK { ?s ?p ?o FILTER(STRLEN(STR(?o)) > 2) }")).toBe(true);
    expect(fixed("CONSTRUCT { ?s <urn:x> ?o } WHERE { ?s ?p ?o }")).toBe(true);
    expect(fixed("SELECT (COUNT(*) AS ?n) WHERE { { SELECT ?s WHERE { ?s ?p ?o } } }")).toBe(true);
  });

  it("refuses queries that read other graphs", () => {
    expect(fixed("SELECT * WHERE { GRAPH <urn:kgen:graph:other> { ?s ?p ?o } }")).toBe(false);
    expect(fixed("SELECT * FROM <urn:kgen:graph:other> WHERE { ?s ?p ?o }")).toBe(false);
    expect(fixed("SELECT * FROM NAMED <urn:kgen:graph:other> WHERE { ?s ?p ?o }")).toBe(false);
    expect(fixed("SELECT * WHERE { ?s ?p ?o FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }")).toBe(false);
  });

  it("refuses queries whose functions change between runs, at any depth", () => {
    expect(fixed("SELECT (NOW() AS ?t) WHERE {}")).toBe(false);
    expect(fixed("SELECT ?s WHERE { ?s ?p ?o BIND(RAND() AS ?r) }")).toBe(false);
    expect(fixed("SELECT (UUID() AS ?u) WHERE {}")).toBe(false);
    expect(fixed("SELECT (STRUUID() AS ?u) WHERE {}")).toBe(false);
    expect(fixed("SELECT (BNODE() AS ?b) WHERE {}")).toBe(false);
    expect(fixed("SELECT ?s WHERE { ?s ?p ?o FILTER(STR(?o) != STR(YEAR(NOW()))) }")).toBe(false);
    expect(fixed("SELECT ?s WHERE { ?s ?p ?o } ORDER BY RAND()")).toBe(false);
  });

  it("reads an IRI that looks like a function name as data", () => {
    expect(fixed("SELECT ?s WHERE { ?s <urn:now> ?o }")).toBe(true);
  });
});
