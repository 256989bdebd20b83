import { describe, expect, it } from "vitest";
import {
  assertIri,
  createGraphGlobals,
  GraphGlobalError,
  LABEL_PREDICATES,
  labelQuery,
} from "../../../shared/generate/graph-globals";
import type { QueryRows } from "../../../shared/generate/template-unit";

const [RDFS_LABEL, SKOS_PREF, DC_TITLE] = LABEL_PREDICATES;

describe("graph globals", () => {
  it("label() prefers rdfs:label, then skos:prefLabel…, and the smallest value of the winner", () => {
    const answers: Record<string, QueryRows> = {
      [labelQuery("http://ex.org/A")]: [
        { p: DC_TITLE as string, label: "Title" },
        { p: SKOS_PREF as string, label: "Pref" },
      ],
      [labelQuery("http://ex.org/B")]: [
        { p: RDFS_LABEL as string, label: "Zeta" },
        { p: SKOS_PREF as string, label: "Alpha" },
        { p: RDFS_LABEL as string, label: "Beta" },
      ],
      [labelQuery("http://ex.org/ns#C")]: [],
    };
    const asked: string[] = [];
    const globals = createGraphGlobals((sparql) => {
      asked.push(sparql);
      return answers[sparql] ?? [];
    });
    expect(globals.label("http://ex.org/A")).toBe("Pref");
    expect(globals.label("http://ex.org/B")).toBe("Beta");
    expect(globals.label("http://ex.org/ns#C")).toBe("C");
    expect(asked[0]).toBe(
      "SELECT ?p ?label WHERE { VALUES ?p { <http://www.w3.org/2000/01/rdf-schema#label> <http://www.w3.org/2004/02/skos/core#prefLabel> <http://purl.org/dc/elements/1.1/title> <http://purl.org/dc/terms/title> <http://xmlns.com/foaf/0.1/name> } <http://ex.org/A> ?p ?label }",
    );
  });

  it("is asynchronous exactly when the query function is", async () => {
    const globals = createGraphGlobals(async () => [{ p: RDFS_LABEL as string, label: "L" }]);
    const label = globals.label("urn:x:1");
    expect(label).toBeInstanceOf(Promise);
    expect(await label).toBe("L");
    expect(await globals.sparql("SELECT * WHERE { ?s ?p ?o }")).toEqual([{ p: RDFS_LABEL, label: "L" }]);
  });

  it("refuses IRIs that would break out of <…>", () => {
    for (const bad of ["http://ex.org/a> ?p ?o . <x", "no-scheme", "http://ex.org/a b", 'http://ex.org/"', 42, ""]) {
      expect(() => assertIri(bad), String(bad)).toThrow(GraphGlobalError);
    }
    expect(assertIri("urn:isbn:0451450523")).toBe("urn:isbn:0451450523");
    expect(() => createGraphGlobals(() => []).sparql("  ")).toThrow(GraphGlobalError);
  });
});
