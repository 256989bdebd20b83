import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type CaseResult, type Corpus, isPlain, runCase } from "../../conformance/nunjucks-harness";

const corpus: Corpus = JSON.parse(readFileSync("../shared/conformance/nunjucks/corpus.json", "utf8"));

describe("nunjucks 3.2.4 corpus replayed by the closure engine", () => {
  it("all 700 plain-JSON cases and all 98 harness cases are identical, none refused", async () => {
    const results: CaseResult[] = [];
    for (const c of corpus.cases) results.push(await runCase(corpus, c));
    const plain = results.filter((r) => isPlain(corpus.cases.find((c) => c.id === r.id) as never));
    const harness = results.filter((r) => !plain.includes(r));
    expect(plain.length).toBe(700);
    expect(harness.length).toBe(98);
    expect(plain.filter((r) => r.verdict !== "identical")).toEqual([]);
    expect(harness.filter((r) => r.verdict === "different")).toEqual([]);
    expect(harness.filter((r) => r.verdict === "refused").length).toBe(0);
  }, 60_000);
});
