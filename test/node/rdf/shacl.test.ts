import { describe, expect, it } from "vitest";
import { RdfSyntaxError, ShapesError } from "../../../shared/rdf/errors";
import { parseRdf, parseRdfSync } from "../../../shared/rdf/formats";
import { validateShacl } from "../../../shared/rdf/shacl";
import { RegexNotSupportedError } from "../../../shared/regex/regex-errors";

const shapes = `@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .
ex:PersonShape a sh:NodeShape ;
  sh:targetClass ex:Person ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:datatype xsd:string ; sh:message "A person needs a name" ] ;
  sh:property [ sh:path [ sh:inversePath ex:employs ] ; sh:maxCount 1 ; sh:severity sh:Warning ] ;
  sh:property [ sh:path ( ex:address ex:city ) ; sh:nodeKind sh:Literal ] .
`;

const data = `@prefix ex: <http://example.org/> .
ex:alice a ex:Person ; ex:name "Alice" .
ex:bob a ex:Person ; ex:name 42 ; ex:address [ ex:city ex:Paris ] .
ex:carol a ex:Person .
ex:acme ex:employs ex:alice . ex:globex ex:employs ex:alice .
`;

describe("validateShacl", () => {
  it("returns a plain-data report with one entry per violation", async () => {
    const report = await validateShacl(parseRdfSync(data, "text/turtle"), shapes);
    expect(report.conforms).toBe(false);
    expect(report.results).toEqual([
      {
        focusNode: "<http://example.org/alice>",
        path: "^<http://example.org/employs>",
        value: null,
        sourceShape: expect.stringMatching(/^_:/),
        sourceConstraintComponent: "http://www.w3.org/ns/shacl#MaxCountConstraintComponent",
        severity: "http://www.w3.org/ns/shacl#Warning",
        message: expect.any(String),
      },
      {
        focusNode: "<http://example.org/bob>",
        path: "<http://example.org/address>/<http://example.org/city>",
        value: "<http://example.org/Paris>",
        sourceShape: expect.stringMatching(/^_:/),
        sourceConstraintComponent: "http://www.w3.org/ns/shacl#NodeKindConstraintComponent",
        severity: "http://www.w3.org/ns/shacl#Violation",
        message: expect.any(String),
      },
      {
        focusNode: "<http://example.org/bob>",
        path: "<http://example.org/name>",
        value: '"42"^^<http://www.w3.org/2001/XMLSchema#integer>',
        sourceShape: expect.stringMatching(/^_:/),
        sourceConstraintComponent: "http://www.w3.org/ns/shacl#DatatypeConstraintComponent",
        severity: "http://www.w3.org/ns/shacl#Violation",
        message: "A person needs a name",
      },
      {
        focusNode: "<http://example.org/carol>",
        path: "<http://example.org/name>",
        value: null,
        sourceShape: expect.stringMatching(/^_:/),
        sourceConstraintComponent: "http://www.w3.org/ns/shacl#MinCountConstraintComponent",
        severity: "http://www.w3.org/ns/shacl#Violation",
        message: "A person needs a name",
      },
    ]);
  });

  it("gives the report as Turtle that parses back to a sh:ValidationReport", async () => {
    const report = await validateShacl(parseRdfSync(data, "text/turtle"), shapes);
    expect(report.turtle).toContain("@prefix sh: <http://www.w3.org/ns/shacl#>.");
    const quads = await parseRdf(report.turtle, "text/turtle");
    const results = quads.filter((q) => q.predicate.value === "http://www.w3.org/ns/shacl#result");
    expect(results).toHaveLength(4);
    const conforms = quads.find((q) => q.predicate.value === "http://www.w3.org/ns/shacl#conforms");
    expect(conforms?.object.value).toBe("false");
  });

  it("is deterministic across runs and input order", async () => {
    const quads = parseRdfSync(data, "text/turtle");
    const first = await validateShacl(quads, shapes);
    const second = await validateShacl([...quads].reverse(), shapes);
    expect(second.results).toEqual(first.results);
    expect((await validateShacl(quads, shapes)).turtle).toBe(first.turtle);
  });

  it("conforms when the data satisfies the shapes", async () => {
    const report = await validateShacl(
      parseRdfSync('<http://example.org/x> <http://example.org/name> "X" .', "text/turtle"),
      shapes,
    );
    expect(report).toMatchObject({ conforms: true, results: [] });
    expect(report.turtle).toContain("sh:conforms true");
  });

  it("rejects invalid shapes Turtle with RdfSyntaxError", async () => {
    await expect(
      validateShacl([], "@prefix sh: <http://www.w3.org/ns/shacl#> .\nex:S a sh:NodeShape ."),
    ).rejects.toBeInstanceOf(RdfSyntaxError);
  });

  it("refuses SPARQL-based constraints instead of silently ignoring them", async () => {
    const sparqlShapes = `@prefix sh: <http://www.w3.org/ns/shacl#> .
<http://example.org/S> a sh:NodeShape ; sh:targetNode <http://example.org/x> ;
  sh:sparql [ sh:select "SELECT $this WHERE { }" ] .`;
    await expect(validateShacl([], sparqlShapes)).rejects.toBeInstanceOf(ShapesError);
  });

  describe("sh:pattern on the linear engine", () => {
    const patternShapes = (pattern: string, flags?: string) => `@prefix sh: <http://www.w3.org/ns/shacl#> .
<http://example.org/S> a sh:NodeShape ; sh:targetNode <http://example.org/x> ;
  sh:property [ sh:path <http://example.org/name> ; sh:pattern ${JSON.stringify(pattern)}${flags ? ` ; sh:flags "${flags}"` : ""} ] .`;
    const named = (value: string) =>
      parseRdfSync(`<http://example.org/x> <http://example.org/name> ${JSON.stringify(value)} .`, "text/turtle");

    it("answers catastrophic patterns correctly and promptly", async () => {
      const value = `${"a".repeat(5000)}!`;
      for (const pattern of ["^(a+)+$", "^(a|aa)+$", "(a*)*b", "^(([a-z])+.)+[A-Z]([a-z])+$"]) {
        const started = performance.now();
        const report = await validateShacl(named(value), patternShapes(pattern));
        expect(report.conforms, pattern).toBe(false);
        expect(report.results[0]?.sourceConstraintComponent).toBe(
          "http://www.w3.org/ns/shacl#PatternConstraintComponent",
        );
        expect(report.results[0]?.message).toBe(`Value does not match pattern "${pattern}"`);
        expect(performance.now() - started, pattern).toBeLessThan(2000);
      }
      expect((await validateShacl(named(value), patternShapes("^(a+)+!$"))).conforms).toBe(true);
    });

    it("reads XPath flags and syntax", async () => {
      expect((await validateShacl(named("ABC"), patternShapes("^abc$", "i"))).conforms).toBe(true);
      expect((await validateShacl(named("ABC"), patternShapes("^abc$"))).conforms).toBe(false);
      expect((await validateShacl(named("b"), patternShapes("^[a-z-[aeiou]]$"))).conforms).toBe(true);
      expect((await validateShacl(named("e"), patternShapes("^[a-z-[aeiou]]$"))).conforms).toBe(false);
    });

    it("refuses back-references and lookaround, and keeps invalid patterns a shapes error", async () => {
      for (const pattern of ["(a)\\1", "a(?=b)", "(?<=a)b"]) {
        await expect(validateShacl(named("aa"), patternShapes(pattern)), pattern).rejects.toBeInstanceOf(
          RegexNotSupportedError,
        );
      }
      await expect(validateShacl(named("a"), patternShapes("("))).rejects.toBeInstanceOf(ShapesError);
    });
  });
});
