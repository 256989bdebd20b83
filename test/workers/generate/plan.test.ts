import { describe, expect, it } from "vitest";
import { planJob } from "../../../shared/generate/plan";
import { type PlanDependencies, PlanError } from "../../../shared/generate/template-unit";
import { OutputPathError } from "../../../shared/template/output-path";
import { tinyEngine } from "../../fixtures/generate-golden";

const QUERY = "SELECT ?name ?skip WHERE { ?e <http://ex.org/name> ?name ; <http://ex.org/skip> ?skip }";
const ROWS = [
  { name: "Alpha", skip: "" },
  { name: "Beta", skip: "yes" },
  { name: "Gamma", skip: "" },
];
const deps: PlanDependencies = { ...tinyEngine, runQuery: (sparql) => (sparql === QUERY ? ROWS : []) };
const template = (path: string, frontmatter: string, body = "{{ e.name }}\n") => ({
  path,
  hash: "0".repeat(64),
  source: `---\n${frontmatter}\n---\n${body}`,
});

describe("planner in workerd", () => {
  it("fans out with foreach, skips with skipIf and gives every write mode", async () => {
    const plan = await planJob(
      [
        template("a.njk", `query: "${QUERY}"\nforeach: e\nskipIf: e.skip\nto: "out/{{ e.name }}.txt"`),
        template("b.njk", "to: out/index.txt\ninject: true\nafter: '// list'", "x\n"),
        template("c.njk", "to: out/index.txt\nappend: true", "y\n"),
        template("d.njk", "to: out/index.txt\nprepend: true", "z\n"),
        template("e.njk", "to: out/index.txt\nlineAt: 2", "w\n"),
      ],
      deps,
    );
    expect(plan.artifacts.map((artifact) => [artifact.path, artifact.mode, artifact.content])).toEqual([
      ["out/Alpha.txt", "write", "Alpha\n"],
      ["out/Gamma.txt", "write", "Gamma\n"],
      ["out/index.txt", "prepend", "z\n"],
      ["out/index.txt", "inject", "x\n"],
      ["out/index.txt", "lineAt", "w\n"],
      ["out/index.txt", "append", "y\n"],
    ]);
    expect(plan.skipped).toEqual([{ template: "a.njk", rowIndex: 1, reason: "skip-if" }]);
    const again = await planJob(
      [template("a.njk", `query: "${QUERY}"\nforeach: e\nskipIf: e.skip\nto: "out/{{ e.name }}.txt"`)],
      deps,
    );
    expect(again.artifacts.map((artifact) => artifact.sha256)).toEqual(plan.artifacts.slice(0, 2).map((a) => a.sha256));
  });

  it("refuses path traversal from a rendered to:", async () => {
    const error = await planJob(
      [template("t.njk", `query: "${QUERY}"\nforeach: e\nto: "../{{ e.name }}"`)],
      deps,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanError);
    expect((error as PlanError).cause).toBeInstanceOf(OutputPathError);
    expect(((error as PlanError).cause as OutputPathError).reason).toBe("dot-dot");
  });
});
