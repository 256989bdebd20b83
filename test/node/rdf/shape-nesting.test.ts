import { describe, expect, it } from "vitest";
import { NestingTooDeepError, WorkBudgetExceededError } from "../../../shared/core/budget-errors";
import { parseRdfSync } from "../../../shared/rdf/formats";
import { validateShacl } from "../../../shared/rdf/shacl";
import { assertShapeNesting, MAX_SHAPE_LIST_LENGTH, MAX_SHAPE_NESTING_DEPTH } from "../../../shared/rdf/shape-nesting";

const SH = "@prefix sh: <http://www.w3.org/ns/shacl#> .\n";
const nodeChain = (length: number) =>
  SH + Array.from({ length: length - 1 }, (_, i) => `<urn:s${i}> sh:node <urn:s${i + 1}> .`).join("\n");
const andChain = (length: number) =>
  SH + Array.from({ length: length - 1 }, (_, i) => `<urn:s${i}> sh:and ( <urn:x> <urn:s${i + 1}> ) .`).join("\n");

describe("shape nesting", () => {
  it("accepts chains of shape references up to the limit and refuses one more, through sh:node and sh:and", () => {
    for (const build of [nodeChain, andChain]) {
      expect(() => assertShapeNesting(parseRdfSync(build(MAX_SHAPE_NESTING_DEPTH), "text/turtle"))).not.toThrow();
      expect(() => assertShapeNesting(parseRdfSync(build(MAX_SHAPE_NESTING_DEPTH + 1), "text/turtle"))).toThrow(
        NestingTooDeepError,
      );
    }
  });

  it("does not count cycles or shared shapes as depth, and stays linear on wide graphs", () => {
    const cycle = `${SH}<urn:a> sh:node <urn:b> . <urn:b> sh:node <urn:a> . <urn:b> sh:property <urn:a> .`;
    expect(() => assertShapeNesting(parseRdfSync(cycle, "text/turtle"))).not.toThrow();
    const diamond = `${SH}${Array.from({ length: 5_000 }, (_, i) => `<urn:root> sh:node <urn:w${i}> . <urn:w${i}> sh:node <urn:shared> .`).join("\n")}`;
    expect(() => assertShapeNesting(parseRdfSync(diamond, "text/turtle"))).not.toThrow();
  });

  it("refuses a 10,000-long chain before the validator recurses into it", async () => {
    const shapes = `${nodeChain(10_000)}\n<urn:s0> sh:targetNode <urn:a> .`;
    await expect(validateShacl([], shapes)).rejects.toBeInstanceOf(NestingTooDeepError);
  });

  it("accepts shape and path lists up to the length limit and refuses one member more", () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `<urn:m${i}>`).join(" ");
    const lists = [
      (n: number) => `${SH}<urn:s> sh:and ( ${members(n)} ) .`,
      (n: number) => `${SH}<urn:s> sh:xone ( ${members(n)} ) .`,
      (n: number) => `${SH}<urn:s> sh:property [ sh:path ( ${members(n)} ) ] .`,
      (n: number) => `${SH}<urn:s> sh:property [ sh:path [ sh:alternativePath ( ${members(n)} ) ] ] .`,
    ];
    for (const list of lists) {
      expect(() => assertShapeNesting(parseRdfSync(list(MAX_SHAPE_LIST_LENGTH), "text/turtle"))).not.toThrow();
      expect(() => assertShapeNesting(parseRdfSync(list(MAX_SHAPE_LIST_LENGTH + 1), "text/turtle"))).toThrow(
        WorkBudgetExceededError,
      );
    }
    const values = `${SH}<urn:s> sh:property [ sh:path <urn:p> ; sh:in ( ${members(5_000)} ) ] .`;
    expect(() => assertShapeNesting(parseRdfSync(values, "text/turtle"))).not.toThrow();
  });
});
