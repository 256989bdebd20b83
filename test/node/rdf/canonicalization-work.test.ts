import { describe, expect, it } from "vitest";
import { WorkBudgetExceededError } from "../../../shared/core/budget-errors";
import { canonicalHash } from "../../../shared/rdf/canonical-hash";
import {
  CANONICALIZATION_BASE_STEPS,
  CanonicalizationWork,
  canonicalizationStepLimit,
  STEPS_PER_YIELD,
} from "../../../shared/rdf/canonicalization-work";
import { CanonicalizationLimitError } from "../../../shared/rdf/errors";
import { MAX_RDF_NESTING_DEPTH, parseRdfSync } from "../../../shared/rdf/formats";

const chain = (length: number) => Array.from({ length }, (_, i) => `_:b${i} <urn:p> _:b${i + 1} .`).join("\n");

describe("canonicalization work budget", () => {
  it("grows with the input: a base plus a fixed number of steps per N-Quads byte", () => {
    expect(canonicalizationStepLimit(0)).toBe(CANONICALIZATION_BASE_STEPS);
    expect(canonicalizationStepLimit(200_000) - canonicalizationStepLimit(100_000)).toBe(
      canonicalizationStepLimit(100_000) - CANONICALIZATION_BASE_STEPS,
    );
  });

  it("refuses a long chain of look-alike blank nodes with WorkBudgetExceededError, not a hang", async () => {
    const quads = parseRdfSync(chain(3_000), "text/turtle");
    const error = await canonicalHash(quads).catch((e) => e);
    expect(error).toBeInstanceOf(WorkBudgetExceededError);
    expect(error).toMatchObject({ subject: "canonicalization", unit: "steps" });
  });

  it("counts steps, not hash operations: a tight step budget refuses what the hash budget allows", async () => {
    const quads = parseRdfSync(chain(40), "text/turtle");
    await expect(canonicalHash(quads)).resolves.toMatchObject({ hash: expect.stringMatching(/^sha256:/) });
    await expect(canonicalHash(quads, { maxWorkSteps: 10_000 })).rejects.toBeInstanceOf(WorkBudgetExceededError);
  });

  it("labels one chain of look-alike blank nodes as deep as the nesting limit allows", async () => {
    for (const document of [
      `<urn:s> <urn:p> ${"(".repeat(MAX_RDF_NESTING_DEPTH)}${")".repeat(MAX_RDF_NESTING_DEPTH)} .`,
      `<urn:s> <urn:p> ${"[ <urn:p> ".repeat(MAX_RDF_NESTING_DEPTH)}1${" ]".repeat(MAX_RDF_NESTING_DEPTH)} .`,
    ]) {
      await expect(canonicalHash(parseRdfSync(document, "text/turtle"))).resolves.toHaveProperty("hash");
    }
  });

  it("keeps canonicalization-limit for symmetric structures (many look-alike neighbours)", async () => {
    const clique = Array.from({ length: 12 }, (_, i) =>
      Array.from({ length: 12 }, (_, j) => (i === j ? "" : `_:n${i} <urn:p> _:n${j} .`)).join("\n"),
    ).join("\n");
    await expect(canonicalHash(parseRdfSync(clique, "text/turtle"))).rejects.toBeInstanceOf(CanonicalizationLimitError);
  });
});

describe("canonicalization yields to other work", () => {
  it("lets queued work run once STEPS_PER_YIELD steps passed, and not before", async () => {
    const work = new CanonicalizationWork(10 * STEPS_PER_YIELD);
    let ran = 0;
    setTimeout(() => ran++, 0);
    work.charge(STEPS_PER_YIELD - 1);
    await work.yieldIfDue();
    expect(ran).toBe(0);
    work.charge(1);
    await work.yieldIfDue();
    expect(ran).toBe(1);
    setTimeout(() => ran++, 0);
    await work.yieldIfDue();
    expect(ran).toBe(1);
  });
});
