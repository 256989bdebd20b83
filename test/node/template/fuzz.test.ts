import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import { createEngine } from "../../../shared/template/index";
import { runFuzz } from "../../conformance/nunjucks-fuzz";

describe("differential fuzzer against nunjucks compiled with new Function", () => {
  it("the oracle really is nunjucks' generated JavaScript and the engine is not", () => {
    const oracle = new nunjucks.Environment([]);
    const tmpl = new nunjucks.Template("{{ x }}", oracle);
    // biome-ignore lint/suspicious/noExplicitAny: nunjucks internals
    (tmpl as any).compile();
    // biome-ignore lint/suspicious/noExplicitAny: nunjucks internals
    const src = String((tmpl as any).rootRenderFunc);
    expect(src).toContain("runtime.suppressValue");
    expect(src).toContain("contextOrFrameLookup");
    const engine = createEngine();
    // biome-ignore lint/suspicious/noExplicitAny: nunjucks internals
    const mine = engine.compile("{{ x }}") as any;
    expect(String(mine.rootRenderFunc)).not.toContain("suppressValue");
    expect(oracle.renderString("{{ 1 + 1 }}", {})).toBe(engine.renderString("{{ 1 + 1 }}"));
  });

  it("3000 random expressions and statement sequences (seed 20261126) render identically", () => {
    const res = runFuzz(3000, 20261126);
    expect(res.differences).toEqual([]);
    expect(res.identical).toBe(3000);
  }, 60_000);
});
