// `npm run conformance -- nunjucks [corpus.json] [--fuzz N] [--seed S] [--out file]`
// Replays a nunjucks corpus against the closure engine, or (--fuzz) runs the differential fuzzer for N cases.
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFuzz } from "./nunjucks-fuzz";
import { type CaseResult, type Corpus, isPlain, runCase } from "./nunjucks-harness";

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export default async function (args: string[]): Promise<void> {
  const fuzz = flag(args, "--fuzz");
  const out = flag(args, "--out");
  if (fuzz !== undefined) {
    const seed = Number(flag(args, "--seed") ?? 1);
    const res = runFuzz(Number(fuzz), seed);
    const file = out ?? join(tmpdir(), "nunjucks-fuzz-differences.json");
    writeFileSync(file, JSON.stringify(res.differences, null, 2));
    console.error(`differences written to ${file}`);
    console.log(
      JSON.stringify({
        suite: "nunjucks-fuzz",
        cases: res.cases,
        identical: res.identical,
        different: res.differences.length,
        seed,
      }),
    );
    return;
  }
  const positional = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && (args[i - 1] ?? "").startsWith("--")));
  const corpusPath = positional[0] ?? "../shared/conformance/nunjucks/corpus.json";
  const corpus: Corpus = JSON.parse(readFileSync(corpusPath, "utf8"));
  const results: CaseResult[] = [];
  for (const c of corpus.cases) results.push(await runCase(corpus, c));
  const count = (pred: (r: CaseResult) => boolean) => results.filter(pred).length;
  const byId = new Map(corpus.cases.map((c) => [c.id, c]));
  const plain = (r: CaseResult) => isPlain(byId.get(r.id) as never);
  const file = out ?? join(tmpdir(), "nunjucks-conformance-differences.json");
  writeFileSync(
    file,
    JSON.stringify(
      {
        different: results.filter((r) => r.verdict === "different").map((r) => ({ ...r, src: byId.get(r.id)?.src })),
        refused: results.filter((r) => r.verdict === "refused").map((r) => ({ ...r, src: byId.get(r.id)?.src })),
      },
      null,
      2,
    ),
  );
  console.error(
    `plain-JSON: ${count((r) => plain(r) && r.verdict === "identical")}/${count(plain)} identical; harness: ${count((r) => !plain(r) && r.verdict === "identical")}/${count((r) => !plain(r))} identical, ${count((r) => !plain(r) && r.verdict === "refused")} refused; differing and refused cases written to ${file}`,
  );
  console.log(
    JSON.stringify({
      suite: "nunjucks",
      cases: results.length,
      identical: count((r) => r.verdict === "identical"),
      different: count((r) => r.verdict === "different"),
      refused: count((r) => r.verdict === "refused"),
    }),
  );
}
