import { readFileSync } from "node:fs";
import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import { analyzeTemplate, TemplateSyntaxError } from "../../../shared/template/kgen/analyze-template";

interface CorpusCase {
  id: number;
  src: string;
  ctx: unknown;
  mode: string;
  loads: string[];
  env: { opts: Record<string, boolean>; extensions: unknown[] };
  flags: Record<string, boolean>;
  error?: { message: string };
}

const corpus = JSON.parse(
  readFileSync(new URL("../../../../shared/conformance/nunjucks/corpus.json", import.meta.url), "utf8"),
) as { cases: CorpusCase[] };

function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value !== null && typeof value === "object") {
    if ((value as { $t?: string }).$t === "undefined") return undefined;
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, revive(item)]));
  }
  return value;
}

type Frame = { variables: Record<string, unknown>; parent?: Frame };

describe("analyzeTemplate over nunjucks' own test corpus", () => {
  it("declares every name compiled nunjucks resolves from the context, and parses what nunjucks parses", () => {
    const runtime = (nunjucks as unknown as { runtime: Record<string, (...args: unknown[]) => unknown> }).runtime;
    const original = runtime.contextOrFrameLookup as (...args: unknown[]) => unknown;
    const read = new Set<string>();
    runtime.contextOrFrameLookup = (ctx: unknown, frame: unknown, name: unknown) => {
      let bound = false;
      for (let f = frame as Frame | undefined; f && !bound; f = f.parent)
        bound = Object.hasOwn(f.variables, String(name));
      if (!bound) read.add(String(name));
      return original(ctx, frame, name);
    };
    const missed: string[] = [];
    let compared = 0;
    let rejected = 0;
    try {
      for (const testCase of corpus.cases) {
        if (testCase.flags.nonJson || testCase.loads.length > 0 || testCase.env.extensions.length > 0) continue;
        const lexerOptions = { trimBlocks: testCase.env.opts.trimBlocks, lstripBlocks: testCase.env.opts.lstripBlocks };
        let analysis: ReturnType<typeof analyzeTemplate> | undefined;
        try {
          analysis = analyzeTemplate(testCase.src, { lexerOptions, globals: [] });
        } catch (error) {
          expect(error).toBeInstanceOf(TemplateSyntaxError);
          rejected++;
        }
        read.clear();
        let rendered = true;
        try {
          new nunjucks.Environment(null, testCase.env.opts).renderString(testCase.src, revive(testCase.ctx) as object);
        } catch {
          rendered = false;
        }
        if (analysis === undefined) {
          // The analysis may only refuse templates nunjucks cannot render either.
          expect(rendered, `case ${testCase.id} parses in nunjucks: ${testCase.src}`).toBe(false);
          continue;
        }
        if (!rendered) continue;
        compared++;
        const known = new Set([...analysis.variables, ...analysis.macros]);
        for (const name of read) {
          if (
            !known.has(name) &&
            !(name in nunjucks.Environment.prototype) &&
            !["range", "cycler", "joiner"].includes(name)
          ) {
            missed.push(`case ${testCase.id}: ${name} in ${testCase.src}`);
          }
        }
      }
    } finally {
      runtime.contextOrFrameLookup = original;
    }
    expect(compared).toBeGreaterThan(400);
    expect(missed).toEqual([]);
    console.log(`analyzeTemplate corpus: ${compared} renders compared, ${rejected} syntax errors agreed`);
  });
});
