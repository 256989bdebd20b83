import { describe, expect, it } from "vitest";
import { caseFoldPath, checkCaseCollisions, PathCollisionError } from "../../../shared/generate/path-collisions";
import { checkOutputConflicts } from "../../../shared/generate/plan";
import type { PlannedArtifact } from "../../../shared/generate/template-unit";
import { problemFromDomainError } from "../../../workers/problems/domain-problems";

function artifact(path: string, template = "t.njk", rowIndex: number | null = null, mode = "write"): PlannedArtifact {
  return {
    path,
    mode: mode as PlannedArtifact["mode"],
    content: "",
    bytes: new Uint8Array(),
    sha256: "0".repeat(64),
    size: 0,
    template: { path: template, hash: "1".repeat(64) },
    rowIndex,
    contextSha256: "2".repeat(64),
    dependencies: [],
  };
}

function collision(artifacts: PlannedArtifact[]): PathCollisionError | null {
  try {
    checkOutputConflicts(artifacts);
    return null;
  } catch (error) {
    if (error instanceof PathCollisionError) return error;
    throw error;
  }
}

describe("caseFoldPath", () => {
  it.each([
    ["src/A.ts", "src/a.ts"],
    ["README.md", "readme.MD"],
    ["Straße.ts", "STRASSE.ts"],
    ["straße.ts", "STRAẞE.ts"],
    ["ΟΔΟΣ/x", "οδος/x"],
    ["ﬀ.txt", "FF.txt"],
    ["K.txt", "k.txt"],
    // Windows' upcase table maps the dotless ı to I as well.
    ["ı.txt", "I.txt"],
    ["e\u0301.txt", "\u00c9.TXT"],
  ])("folds %j and %j to one name", (a, b) => {
    expect(caseFoldPath(a)).toBe(caseFoldPath(b));
  });

  it.each([
    ["a.ts", "b.ts"],
    ["a.ts", "a.ts.bak"],
    ["a.txt", "á.txt"],
    ["ss.txt", "s.txt"],
    ["src/a.ts", "src-a.ts"],
  ])("keeps %j and %j apart", (a, b) => {
    expect(caseFoldPath(a)).not.toBe(caseFoldPath(b));
  });
});

describe("caseFoldPath on printable ASCII", () => {
  it("agrees with the full fold for every printable ASCII character", () => {
    const fullFold = (text: string) => text.normalize("NFC").toLowerCase().toUpperCase().toLowerCase().normalize("NFC");
    for (let code = 0x20; code <= 0x7e; code++) {
      const text = `dir/${String.fromCharCode(code)}x`;
      expect(caseFoldPath(text)).toBe(fullFold(text));
    }
  });
});

describe("case-insensitive output collisions", () => {
  it("refuses two paths that differ only in case, naming both paths, templates and rows", () => {
    const error = collision([artifact("src/A.ts", "upper.njk", 3), artifact("src/a.ts", "lower.njk", null)]);
    expect(error).toBeInstanceOf(PathCollisionError);
    expect(error?.first).toEqual({ path: "src/A.ts", template: "upper.njk", rowIndex: 3 });
    expect(error?.second).toEqual({ path: "src/a.ts", template: "lower.njk", rowIndex: null });
    const problem = problemFromDomainError(error);
    expect(problem?.status).toBe(422);
    expect(problem?.type).toBe("path-collision");
    expect(problem?.extensions.paths).toEqual(["src/A.ts", "src/a.ts"]);
  });

  it("refuses case variants whatever their write modes: a patch would land in the other file", () => {
    expect(collision([artifact("A.ts"), artifact("a.ts", "p.njk", null, "append")])).toBeInstanceOf(PathCollisionError);
    expect(
      collision([artifact("A.ts", "p.njk", null, "inject"), artifact("a.ts", "q.njk", null, "append")]),
    ).toBeInstanceOf(PathCollisionError);
  });

  it("refuses Unicode case variants: Straße / STRASSE, Σ / σ", () => {
    expect(collision([artifact("docs/STRASSE.md", "a.njk"), artifact("docs/Straße.md", "b.njk")])).toBeInstanceOf(
      PathCollisionError,
    );
    expect(collision([artifact("Σ.txt", "a.njk", 0), artifact("σ.txt", "a.njk", 1)])).toBeInstanceOf(
      PathCollisionError,
    );
  });

  it("refuses a file whose name is a directory of another path once case is folded", () => {
    const error = collision([artifact("out/X"), artifact("out/x/y.ts", "d.njk", 2)]);
    expect(error?.first.path).toBe("out/X");
    expect(error?.second).toEqual({ path: "out/x/y.ts", template: "d.njk", rowIndex: 2 });
  });

  it("keeps the exact rules: several patches of one path pass, two whole files are duplicate-output", () => {
    expect(collision([artifact("a.ts"), artifact("a.ts", "p.njk", null, "append")])).toBeNull();
    expect(() => checkOutputConflicts([artifact("a.ts", "a.njk"), artifact("a.ts", "b.njk")])).toThrow(
      expect.objectContaining({ code: "duplicate-output" }),
    );
  });

  it("allows directories whose names differ only in case and distinct names", () => {
    expect(collision([artifact("Src/a.ts"), artifact("src/b.ts")])).toBeNull();
    expect(collision([artifact("a.ts"), artifact("b.ts"), artifact("á.ts")])).toBeNull();
  });

  it("finds every case collision among random paths, and none where the folds differ (fuzz)", () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const alphabet = ["a", "A", "b", "B", "ß", "ss", "SS", "é", "É", "e\u0301", "/", "."];
    for (let round = 0; round < 300; round++) {
      const paths = new Set<string>();
      while (paths.size < 6) {
        let path = "";
        for (let i = 0, n = 1 + random(5); i < n; i++) path += alphabet[random(alphabet.length)];
        path = path.normalize("NFC");
        if (/^[/.]|[/.]$|\/\/|\/\.|\.\//.test(path)) continue;
        paths.add(path);
      }
      const list = [...paths].sort();
      const folds = list.map(caseFoldPath);
      const expectCollision =
        new Set(folds).size < folds.length || folds.some((fold) => folds.some((other) => other.startsWith(`${fold}/`)));
      const exactDirectory = list.some((path) => list.some((other) => other.startsWith(`${path}/`)));
      if (exactDirectory) continue;
      const artifacts = list.map((path, index) => artifact(path, "f.njk", index));
      expect(collision(artifacts) !== null, list.join(" | ")).toBe(expectCollision);
    }
  });
});

describe("checkCaseCollisions", () => {
  it("is linear: 20,000 distinct paths are checked quickly", () => {
    const artifacts = Array.from({ length: 20_000 }, (_, i) => artifact(`src/module${i}/File${i}.ts`));
    const started = performance.now();
    checkCaseCollisions(artifacts);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
