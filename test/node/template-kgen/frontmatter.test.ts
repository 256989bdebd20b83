import { describe, expect, it } from "vitest";
import { NestingTooDeepError } from "../../../shared/core/budget-errors";
import { MAX_JSON_DEPTH } from "../../../shared/core/json-nesting";
import {
  applyWriteMode,
  evaluateSkipIf,
  FrontmatterError,
  parseChmod,
  parseFrontmatter,
  parseSkipIf,
  SkipIfSyntaxError,
  WriteModeError,
  writeModeOf,
} from "../../../shared/template/frontmatter";

function withFrontmatter(yaml: string, body = "body\n"): string {
  return `---\n${yaml}\n---\n${body}`;
}

function frontmatterError(yaml: string): FrontmatterError {
  try {
    parseFrontmatter(withFrontmatter(yaml));
  } catch (error) {
    expect(error).toBeInstanceOf(FrontmatterError);
    return error as FrontmatterError;
  }
  throw new Error(`expected a FrontmatterError for:\n${yaml}`);
}

describe("parseFrontmatter", () => {
  it("splits frontmatter and body and reports the body's first line", () => {
    const source = withFrontmatter(
      "to: src/{{ name | pascalCase }}.ts\nname: service\ntags: [a, b]\nsparql: SELECT * WHERE { ?s ?p ?o }",
      "line one\n{{ name }}\n",
    );
    const parsed = parseFrontmatter(source);
    expect(parsed.frontmatter).toEqual({
      to: "src/{{ name | pascalCase }}.ts",
      name: "service",
      tags: ["a", "b"],
      query: "SELECT * WHERE { ?s ?p ?o }",
    });
    expect(parsed.body).toBe("line one\n{{ name }}\n");
    expect(parsed.bodyLine).toBe(7);
    expect(source.split("\n")[parsed.bodyLine - 1]).toBe("line one");
  });
  it("treats sources without a leading --- as body only", () => {
    expect(parseFrontmatter("hello\n---\nx: 1\n---\n")).toEqual({
      frontmatter: {},
      body: "hello\n---\nx: 1\n---\n",
      bodyLine: 1,
    });
    expect(parseFrontmatter(" ---\n")).toMatchObject({ bodyLine: 1 });
  });
  it("handles empty frontmatter, CRLF, a BOM and a missing final newline", () => {
    expect(parseFrontmatter("---\n---\nx")).toEqual({ frontmatter: {}, body: "x", bodyLine: 3 });
    expect(parseFrontmatter("\uFEFF---\r\nto: a.txt\r\n---\r\nbody")).toEqual({
      frontmatter: { to: "a.txt" },
      body: "body",
      bodyLine: 4,
    });
    expect(parseFrontmatter("---\nto: a\n---")).toEqual({ frontmatter: { to: "a" }, body: "", bodyLine: 4 });
    expect(parseFrontmatter("---\n# only a comment\n---\n").frontmatter).toEqual({});
  });
  it("keeps the known fields, converts chmod and drops empty values", () => {
    const { frontmatter } = parseFrontmatter(
      withFrontmatter(
        'to: out.sh\nchmod: "0755"\nskipIf: "!enabled"\nforeach: model.classes\nquery: ASK {}\ndescription:\nversion: 2',
      ),
    );
    expect(frontmatter).toEqual({
      to: "out.sh",
      chmod: 0o755,
      skipIf: "!enabled",
      foreach: "model.classes",
      query: "ASK {}",
      version: 2,
    });
  });
  it("passes metadata named like Object.prototype members through as plain data", () => {
    const { frontmatter } = parseFrontmatter(
      withFrontmatter("constructor: x\n__proto__: {polluted: true}\ntoString: y"),
    );
    expect(Object.getPrototypeOf(frontmatter)).toBe(Object.prototype);
    expect(Object.keys(frontmatter).sort()).toEqual(["__proto__", "constructor", "toString"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it("reads unquoted chmod from its source text as octal", () => {
    expect(parseFrontmatter(withFrontmatter("chmod: 755")).frontmatter.chmod).toBe(0o755);
    expect(parseFrontmatter(withFrontmatter("chmod: 0644")).frontmatter.chmod).toBe(0o644);
    expect(parseFrontmatter(withFrontmatter("chmod: 0o600")).frontmatter.chmod).toBe(0o600);
    expect(parseChmod("0777")).toBe(0o777);
    expect(parseChmod("1777")).toBeUndefined();
    expect(parseChmod("800")).toBeUndefined();
  });
  it("parses each write mode", () => {
    expect(writeModeOf(parseFrontmatter(withFrontmatter("to: a")).frontmatter)).toEqual({ mode: "write" });
    expect(writeModeOf(parseFrontmatter(withFrontmatter("inject: true\nbefore: '// end'")).frontmatter)).toEqual({
      mode: "inject",
      inject: { position: "before", marker: "// end" },
    });
    expect(writeModeOf(parseFrontmatter(withFrontmatter("inject: true\nafter: x")).frontmatter)).toMatchObject({
      inject: { position: "after" },
    });
    expect(writeModeOf(parseFrontmatter(withFrontmatter("append: true")).frontmatter)).toEqual({ mode: "append" });
    expect(writeModeOf(parseFrontmatter(withFrontmatter("prepend: true")).frontmatter)).toEqual({ mode: "prepend" });
    expect(writeModeOf(parseFrontmatter(withFrontmatter("lineAt: 3")).frontmatter)).toEqual({
      mode: "lineAt",
      lineAt: 3,
    });
    expect(writeModeOf(parseFrontmatter(withFrontmatter("append: false\nprepend: true")).frontmatter).mode).toBe(
      "prepend",
    );
  });
});

describe("frontmatter errors name the field", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["to: 5", "to", /"to".*string/],
    ["to: {{ name }}.ts", "to", /YAML.*"to".*quote/],
    ["to: {{ name }}", "to", /"to".*quote/],
    ["foreach: model.constructor", "foreach", /"foreach".*constructor/],
    ["to: ''", "to", /"to".*empty/],
    ["to: 'src/{{ name '", "to", /"to" is not a valid template/],
    ["inject: yes please", "inject", /"inject".*true or false/],
    ["append: 1", "append", /"append"/],
    ["prepend: 'true'", "prepend", /"prepend"/],
    ["inject: true\nbefore: 3", "before", /"before".*string/],
    ["inject: true\nafter: ''", "after", /"after".*empty/],
    ["lineAt: 0", "lineAt", /"lineAt".*≥ 1/],
    ["lineAt: 2.5", "lineAt", /"lineAt".*integer/],
    ["lineAt: 'three'", "lineAt", /"lineAt"/],
    ["skipIf: 'a && b'", "skipIf", /"skipIf".*not one of/],
    ["skipIf: '__proto__.x'", "skipIf", /"skipIf".*__proto__/],
    ["skipIf: 3", "skipIf", /"skipIf".*string/],
    ["chmod: '999'", "chmod", /"chmod".*octal/],
    ["chmod: '1755'", "chmod", /"chmod"/],
    ["chmod: 0o1000", "chmod", /"chmod"/],
    ["chmod: [7]", "chmod", /"chmod"/],
    ["sparql: 5", "sparql", /"sparql"/],
    ["query: {}", "query", /"query"/],
    ["foreach: 'items[0]'", "foreach", /"foreach".*variable name/],
    ["sh: rm -rf /", "sh", /"sh".*not supported/],
    ["before: '// x'", "before", /"before" needs "inject: true"/],
    ["inject: false\nafter: '// x'", "after", /"after" needs "inject: true"/],
    ["inject: true", "inject", /"inject" needs a "before" or "after"/],
  ];
  for (const [yaml, field, pattern] of cases) {
    it(`${field}: ${yaml.replaceAll("\n", "; ")}`, () => {
      const error = frontmatterError(yaml);
      expect(error.field).toBe(field);
      expect(error.message).toMatch(pattern);
      expect(error.message).toContain(field);
    });
  }

  it("reports the line of the field in the template source", () => {
    const error = frontmatterError("name: x\n\nlineAt: -1");
    expect(error.line).toBe(4);
    expect(error.column).toBe(1);
  });
  it("names both fields of a write-mode conflict", () => {
    for (const [yaml, fields] of [
      ["append: true\nprepend: true", ["append", "prepend"]],
      ["inject: true\nafter: x\nappend: true", ["inject", "append"]],
      ["prepend: true\nlineAt: 2", ["prepend", "lineAt"]],
      ["inject: true\nbefore: a\nafter: b", ["before", "after"]],
      ["sparql: ASK {}\nquery: ASK {}", ["sparql", "query"]],
    ] as const) {
      const error = frontmatterError(yaml);
      expect(error.fields).toEqual(fields);
      for (const field of fields) expect(error.message).toContain(`"${field}"`);
    }
  });
  it("collects every issue", () => {
    const error = frontmatterError("lineAt: 0\nchmod: '9'");
    expect(error.issues.map((issue) => issue.field)).toEqual(["lineAt", "chmod"]);
    expect(error.message).toContain("+1 more");
  });
  it("gives YAML syntax errors with their line and column in the template", () => {
    const error = frontmatterError("to: a\nlist: [1, 2\nname: x");
    expect(error.field).toBe("list");
    expect(error.message).toMatch(/^frontmatter YAML in field "list": /);
    expect(error.line).toBeGreaterThanOrEqual(3);
    expect(error.column).toBeGreaterThanOrEqual(1);
    const duplicate = frontmatterError("to: a\nto: b");
    expect(duplicate.message).toMatch(/unique/);
    expect(duplicate.line).toBe(3);
  });
  it("leaves the field null for YAML errors before any field", () => {
    const error = frontmatterError("  - : : [");
    expect(error.field).toBeNull();
    expect(error.message).toMatch(/^frontmatter YAML: /);
  });
  it("rejects frontmatter that is not a mapping or not closed", () => {
    expect(frontmatterError("- a\n- b").message).toMatch(/mapping/);
    expect(() => parseFrontmatter("---\nto: a\nbody")).toThrow(/not closed/);
    expect(() => parseFrontmatter("---")).toThrow(FrontmatterError);
  });
});

describe("skipIf", () => {
  const context = { enabled: true, count: 0, kind: "api", nested: { flag: "yes" }, list: [], none: null };
  it("evaluates the four forms", () => {
    expect(evaluateSkipIf("enabled", context)).toBe(true);
    expect(evaluateSkipIf("count", context)).toBe(false);
    expect(evaluateSkipIf("missing", context)).toBe(false);
    expect(evaluateSkipIf("list", context)).toBe(true);
    expect(evaluateSkipIf("!enabled", context)).toBe(false);
    expect(evaluateSkipIf("! missing", context)).toBe(true);
    expect(evaluateSkipIf("kind==api", context)).toBe(true);
    expect(evaluateSkipIf("kind == 'api'", context)).toBe(true);
    expect(evaluateSkipIf('kind=="web"', context)).toBe(false);
    expect(evaluateSkipIf("kind!=web", context)).toBe(true);
    expect(evaluateSkipIf("nested.flag==yes", context)).toBe(true);
    expect(evaluateSkipIf("count==0", context)).toBe(true);
    expect(evaluateSkipIf("none==", context)).toBe(true);
    expect(evaluateSkipIf("enabled==true", context)).toBe(true);
    expect(evaluateSkipIf(undefined, context)).toBe(false);
  });
  it("reads own properties only", () => {
    expect(evaluateSkipIf("toString", {})).toBe(false);
    expect(evaluateSkipIf("kind.length==3", context)).toBe(false);
    expect(() => parseSkipIf("constructor")).toThrow(SkipIfSyntaxError);
  });
  it("rejects other syntax", () => {
    for (const bad of ["", "a b", "a === b", "!a==b", "a.", "1a", "a[0]"]) {
      expect(() => parseSkipIf(bad), bad).toThrow(SkipIfSyntaxError);
    }
  });
});

describe("applyWriteMode", () => {
  const file = "import a\n// imports end\n\nclass X {\n  // members\n}\n";

  it("overwrites without a mode", () => {
    expect(applyWriteMode(file, "new\n", { to: "x" })).toBe("new\n");
  });
  it("injects before and after the first marker line", () => {
    expect(applyWriteMode(file, "import b\n", { inject: true, before: "// imports end" })).toBe(
      "import a\nimport b\n// imports end\n\nclass X {\n  // members\n}\n",
    );
    expect(applyWriteMode(file, "  y = 1;\n", { inject: true, after: "// members" })).toBe(
      "import a\n// imports end\n\nclass X {\n  // members\n  y = 1;\n}\n",
    );
    expect(applyWriteMode("a\nlast", "b", { inject: true, after: "last" })).toBe("a\nlast\nb\n");
  });
  it("fails with a typed error when the marker is missing", () => {
    try {
      applyWriteMode(file, "x\n", { inject: true, after: "// nowhere" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(WriteModeError);
      expect((error as WriteModeError).field).toBe("after");
      expect((error as Error).message).toContain("// nowhere");
    }
    expect(() => applyWriteMode("", "x", { inject: true, before: "m" })).toThrow(WriteModeError);
  });
  it("appends and prepends, adding a missing line break", () => {
    expect(applyWriteMode("a\n", "b\n", { append: true })).toBe("a\nb\n");
    expect(applyWriteMode("a", "b\n", { append: true })).toBe("a\nb\n");
    expect(applyWriteMode(null, "b\n", { append: true })).toBe("b\n");
    expect(applyWriteMode("a\n", "b\n", { prepend: true })).toBe("b\na\n");
    expect(applyWriteMode("a\n", "b", { prepend: true })).toBe("b\na\n");
    expect(applyWriteMode("", "b", { prepend: true })).toBe("b");
  });
  it("inserts at a line number, up to one past the end", () => {
    expect(applyWriteMode("a\nb\nc\n", "X\n", { lineAt: 1 })).toBe("X\na\nb\nc\n");
    expect(applyWriteMode("a\nb\nc\n", "X\n", { lineAt: 2 })).toBe("a\nX\nb\nc\n");
    expect(applyWriteMode("a\nb\nc\n", "X\n", { lineAt: 4 })).toBe("a\nb\nc\nX\n");
    expect(applyWriteMode("a\nb", "X", { lineAt: 3 })).toBe("a\nb\nX\n");
    expect(applyWriteMode("", "X", { lineAt: 1 })).toBe("X\n");
    try {
      applyWriteMode("a\nb\n", "X", { lineAt: 4 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(WriteModeError);
      expect((error as WriteModeError).field).toBe("lineAt");
    }
  });
  it("is idempotent: a block already present as whole lines is not added again", () => {
    const modes = [
      { inject: true, before: "// imports end" },
      { inject: true, after: "// members" },
      { append: true },
      { prepend: true },
      { lineAt: 2 },
    ];
    for (const mode of modes) {
      const once = applyWriteMode(file, "  z = 2;\n", mode);
      expect(once).not.toBe(file);
      expect(applyWriteMode(once, "  z = 2;\n", mode)).toBe(once);
    }
    expect(applyWriteMode("import ab\n", "import a\n", { prepend: true })).toBe("import a\nimport ab\n");
    expect(applyWriteMode(file, "", { append: true })).toBe(file);
  });
});

describe("hostile frontmatter YAML", () => {
  const nestedFlow = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

  it("refuses an alias cycle and alias expansion bombs as invalid frontmatter", () => {
    expect(frontmatterError("x: &a [*a]").message).toContain("a cycle");
    expect(frontmatterError("x: &a {y: &b {z: *a}}").message).toContain("a cycle");
    const laughs = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
    ].join("\n");
    expect(frontmatterError(laughs).message).toContain("too many values");
  });

  it("keeps ordinary aliases", () => {
    const { frontmatter } = parseFrontmatter(withFrontmatter("base: &b {x: 1}\ncopy: *b"));
    expect(frontmatter).toEqual({ base: { x: 1 }, copy: { x: 1 } });
  });

  it("accepts nesting up to MAX_JSON_DEPTH and refuses one level more, deep flow and deep block nesting", () => {
    // the frontmatter mapping itself is one level
    expect(() => parseFrontmatter(withFrontmatter(`x: ${nestedFlow(MAX_JSON_DEPTH - 1)}`))).not.toThrow();
    for (const yaml of [
      `x: ${nestedFlow(MAX_JSON_DEPTH)}`,
      `x: ${nestedFlow(5_000)}`,
      `x:\n${Array.from({ length: 1_000 }, (_, i) => `${" ".repeat(i + 1)}-`).join("\n")} 1`,
    ]) {
      let error: unknown;
      try {
        parseFrontmatter(withFrontmatter(yaml));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(NestingTooDeepError);
      expect((error as NestingTooDeepError).subject).toBe("frontmatter YAML");
    }
  });
});
