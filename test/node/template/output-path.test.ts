import { describe, expect, it } from "vitest";
import { normalizeOutput, normalizeOutputBytes } from "../../../shared/generate/normalize-output";
import {
  isValidOutputPath,
  normalizeOutputPath,
  OutputPathError,
  type OutputPathErrorReason,
} from "../../../shared/template/output-path";

function reasonOf(path: unknown, limits?: Parameters<typeof normalizeOutputPath>[1]): OutputPathErrorReason {
  try {
    normalizeOutputPath(path, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(OutputPathError);
    return (error as OutputPathError).reason;
  }
  throw new Error(`accepted ${JSON.stringify(path)}`);
}

describe("normalizeOutputPath", () => {
  it("accepts relative POSIX paths and removes '.' segments", () => {
    expect(normalizeOutputPath("src/models/User.ts")).toBe("src/models/User.ts");
    expect(normalizeOutputPath("./src/./a.ts")).toBe("src/a.ts");
    expect(normalizeOutputPath("docs/..hidden/a..b.md")).toBe("docs/..hidden/a..b.md");
    expect(normalizeOutputPath(".github/workflows/ci.yml")).toBe(".github/workflows/ci.yml");
    expect(normalizeOutputPath("naïve/ünïcode.ts")).toBe("naïve/ünïcode.ts");
  });

  it("normalizes to NFC so composed and decomposed names are one file", () => {
    expect(normalizeOutputPath("cafe\u0301.md")).toBe("caf\u00e9.md");
  });

  it("refuses every way out of the output root with a named reason", () => {
    const cases: Array<[unknown, OutputPathErrorReason]> = [
      ["../etc/passwd", "dot-dot"],
      ["src/../../x", "dot-dot"],
      ["a/..", "dot-dot"],
      ["/etc/passwd", "absolute"],
      ["//server/share", "absolute"],
      ["src\\a.ts", "backslash"],
      ["..\\..\\x", "backslash"],
      ["C:/Windows/x", "drive-letter"],
      ["c:x", "drive-letter"],
      ["a//b", "empty-segment"],
      ["dir/", "empty-segment"],
      ["", "empty"],
      [".", "empty"],
      ["./.", "empty"],
      ["a\u0000b", "control-character"],
      ["a\nb", "control-character"],
      ["a\u007fb", "control-character"],
      ["a\u0085b", "control-character"],
      ["a\uD800b", "invalid-unicode"],
      [42, "not-a-string"],
      [null, "not-a-string"],
      [`${"x".repeat(256)}.ts`, "segment-too-long"],
      [Array.from({ length: 10 }, () => "x".repeat(200)).join("/"), "too-long"],
      [Array.from({ length: 65 }, () => "d").join("/"), "too-deep"],
    ];
    for (const [path, reason] of cases) expect(reasonOf(path), JSON.stringify(path)).toBe(reason);
  });

  it("honours custom limits and counts UTF-8 bytes", () => {
    expect(reasonOf("€€€/a", { maxSegmentBytes: 8 })).toBe("segment-too-long");
    expect(normalizeOutputPath("€€/a", { maxSegmentBytes: 6 })).toBe("€€/a");
    expect(reasonOf("a/b/c", { maxSegments: 2 })).toBe("too-deep");
    expect(reasonOf("abc/def", { maxBytes: 6 })).toBe("too-long");
  });

  it("names the reason and the path in the message", () => {
    expect(() => normalizeOutputPath("../x")).toThrow(/'\.\.' segment: "\.\.\/x"/);
    expect(isValidOutputPath("a/b")).toBe(true);
    expect(isValidOutputPath("a/../b")).toBe(false);
  });
});

describe("normalizeOutput", () => {
  it("turns CRLF and lone CR into LF", () => {
    expect(normalizeOutput("a\r\nb\rc\n")).toBe("a\nb\nc\n");
  });

  it("removes spaces and tabs at line ends only", () => {
    expect(normalizeOutput("a  \t\n  b\t \r\nc \u00a0 \n")).toBe("a\n  b\nc \u00a0\n");
  });

  it("enforces one final newline but keeps blank lines and empty output", () => {
    expect(normalizeOutput("x")).toBe("x\n");
    expect(normalizeOutput("x  ")).toBe("x\n");
    expect(normalizeOutput("x\n\n\n")).toBe("x\n\n\n");
    expect(normalizeOutput("")).toBe("");
    expect(normalizeOutput("x", { finalNewline: false })).toBe("x");
  });

  it("is idempotent", () => {
    const once = normalizeOutput("a \r\n\tb\t\rc   ");
    expect(normalizeOutput(once)).toBe(once);
  });

  it("stays linear on long runs of inner spaces", () => {
    const text = `${" ".repeat(200_000)}x`;
    expect(normalizeOutput(text)).toBe(`${text}\n`);
  });

  it("encodes as UTF-8", () => {
    expect(Array.from(normalizeOutputBytes("é"))).toEqual([0xc3, 0xa9, 0x0a]);
  });
});
