import { describe, expect, it } from "vitest";
import { describeOutcome, generateExpressions, runDifferential } from "./differential";

describe("differential against oxigraph", () => {
  it("agrees on every generated expression except the documented deviations", () => {
    const outcomes = runDifferential(generateExpressions(4000));
    const disagreements = outcomes.filter((outcome) => !outcome.agree);
    const unexplained = disagreements.filter((outcome) => outcome.deviation === undefined);
    const byDeviation: Record<string, number> = {};
    for (const outcome of disagreements) {
      const key = outcome.deviation ?? "unexplained";
      byDeviation[key] = (byDeviation[key] ?? 0) + 1;
    }
    console.log(
      JSON.stringify({
        differential: "oxigraph",
        expressions: outcomes.length,
        sameValue: outcomes.filter((outcome) => outcome.agree && outcome.ours !== undefined).length,
        bothError: outcomes.filter((outcome) => outcome.agree && outcome.ours === undefined).length,
        disagree: disagreements.length,
        byDeviation,
      }),
    );
    expect(unexplained.map(describeOutcome)).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(20_000);
    // Enough of the generated expressions have a value on both sides for the comparison to mean something.
    expect(outcomes.filter((outcome) => outcome.agree && outcome.ours !== undefined).length).toBeGreaterThan(8_000);
  }, 60_000);
});
