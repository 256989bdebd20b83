import { describe, expect, it } from "vitest";
import { WorkBudgetExceededError } from "../../../shared/core/budget-errors";
import { ExpressionError } from "../../../shared/rdf/sparql/expressions/errors";
import { regexMatches, replaceAll } from "../../../shared/rdf/sparql/expressions/xpath-regex";
import { MAX_REGEX_PATTERN_LENGTH } from "../../../shared/regex/linear-regex";
import { RegexNotSupportedError } from "../../../shared/regex/regex-errors";

describe("XPath regular expressions on the linear engine", () => {
  const hostile = `${"a".repeat(5000)}!`;

  it.each([
    ["(a+)+$", false],
    ["(a|aa)+$", false],
    ["(a*)*b", false],
    ["(.*a){20}", true],
    ["^(([a-z])+.)+[A-Z]([a-z])+$", false],
    ["(a+)+!$", true],
  ])("answers %s over 5,000 characters correctly and promptly", (pattern, expected) => {
    const started = performance.now();
    expect(regexMatches(hostile, pattern, "")).toBe(expected);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("replaces with a catastrophic pattern promptly", () => {
    const started = performance.now();
    expect(replaceAll(hostile, "(a+)+!", "[$1]", "")).toBe("[a]".replace("a", "a".repeat(5000)));
    expect(replaceAll("aaab", "(a|aa)+b", "<$0>", "")).toBe("<aaab>");
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it.each([
    ["(a)\\1", "back-reference"],
    ["(?<n>a)\\k<n>", "back-reference"],
    ["a(?=b)", "lookahead"],
    ["a(?!b)", "lookahead"],
    ["(?<=a)b", "lookbehind"],
    ["(?<!a)b", "lookbehind"],
  ])("refuses %s as not supported (%s)", (pattern, feature) => {
    expect(() => regexMatches("ab", pattern, "")).toThrow(
      expect.objectContaining({ name: "RegexNotSupportedError", feature }),
    );
    expect(() => replaceAll("ab", pattern, "x", "")).toThrow(RegexNotSupportedError);
  });

  it("keeps invalid patterns and flags expression errors", () => {
    for (const [pattern, flags] of [
      ["(", ""],
      ["[a", ""],
      ["[z-a]", ""],
      ["a", "z"],
      ["a{2,1}", ""],
      ["(?i)a", ""],
      ["\\q", ""],
    ]) {
      expect(() => regexMatches("a", pattern as string, flags as string), pattern).toThrow(ExpressionError);
    }
  });

  it("keeps the meaning of sets, escapes and flags", () => {
    expect(regexMatches("\u00a0", "^\\s$", "")).toBe(true);
    expect(regexMatches("\u00a0", "^[\\S]$", "")).toBe(false);
    expect(regexMatches("a\rb", "a.b", "")).toBe(false);
    expect(regexMatches("a\u2028b", "a.b", "s")).toBe(true);
    expect(regexMatches("😀", "^.$", "")).toBe(true);
    expect(regexMatches("A", "\\u0041", "")).toBe(true);
    expect(regexMatches("A", "\\u{41}", "")).toBe(true);
    expect(regexMatches("a.b", "a.b", "q")).toBe(true);
    expect(regexMatches("axb", "a.b", "q")).toBe(false);
    expect(regexMatches("b", "^[a-z-[aeiou]]$", "")).toBe(true);
    expect(regexMatches("e", "^[a-z-[aeiou]]$", "")).toBe(false);
    expect(regexMatches("Z", "^[^a-z-[xyz]]$", "")).toBe(true);
    expect(regexMatches("x", "^[^a-z-[xyz]]$", "")).toBe(false);
    expect(regexMatches("Ж", "^[\\P{IsBasicLatin}]$", "")).toBe(true);
    expect(regexMatches("É", "^\\p{Lu}$", "")).toBe(true);
    expect(regexMatches("é", "^[^\\p{Lu}\\d]$", "")).toBe(true);
    expect(() => regexMatches("a", "[\\p{L}-[a]]", "")).toThrow(RegexNotSupportedError);
    expect(regexMatches("ÉTÉ", "été", "i")).toBe(true);
    expect(regexMatches("a\nb", "^b$", "m")).toBe(true);
    expect(replaceAll("a b", "\\b", "|", "")).toBe("|a| |b|");
    expect(replaceAll("x😀y", "y", "!", "")).toBe("x😀!");
  });

  it("agrees with JavaScript's RegExp (the previous engine) on patterns both read the same way", () => {
    const patterns = [
      "a+",
      "^a",
      "b$",
      "[a-c]+",
      "\\d{2,3}",
      "(ab|a)c",
      "a.c",
      "\\w+@\\w+",
      "(\\s*,\\s*)",
      "x?y*z+",
      "[^ab]",
    ];
    const texts = ["", "a", "abc", "aac", "12 345", "x@y", "a , b", "zzz", "A\nb", "yz"];
    for (const pattern of patterns) {
      for (const flags of ["", "i", "m", "s"]) {
        const native = new RegExp(pattern, `u${flags}`);
        for (const text of texts) {
          expect(regexMatches(text, pattern, flags), `${pattern}/${flags} on ${text}`).toBe(native.test(text));
          if (!new RegExp(pattern, "u").test("")) {
            expect(replaceAll(text, pattern, "<$0>", flags)).toBe(
              text.replace(new RegExp(pattern, `gu${flags}`), "<$&>"),
            );
          }
        }
      }
    }
  });

  it("bounds the pattern length and the work of one evaluation", () => {
    const atLimit = "a".repeat(MAX_REGEX_PATTERN_LENGTH);
    expect(regexMatches(atLimit, atLimit, "")).toBe(true);
    expect(() => regexMatches("a", `${atLimit}a`, "")).toThrow(WorkBudgetExceededError);
    const started = performance.now();
    expect(() => replaceAll("a".repeat(20000), "a.*b|a", "x", "")).toThrow(WorkBudgetExceededError);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("charges the characters read against the caller's steps", () => {
    let steps = 0;
    const charge = (n: number) => {
      steps += n;
    };
    regexMatches("x".repeat(100_000), "y", "", charge);
    expect(steps).toBeGreaterThan(0);
    const before = steps;
    regexMatches("x".repeat(200_000), "y", "", charge);
    expect(steps - before).toBeGreaterThan(before);
  });

  it("answers literal patterns by substring search exactly as the engine does", () => {
    const texts = ["", "abcabc", "a-b, c-d; e.f", "ab\nab\r\nab", "x".repeat(1000), "ééé𝄞𝄞", "aaaa"];
    const literals = ["ab", "a", "-", ", ", "aa", "é", "𝄞", "\n", "xx", "q,q"];
    for (const text of texts) {
      for (const literal of literals) {
        // A group around the literal makes the same pattern go through the regex engine.
        const viaEngine = `(${literal})`;
        for (const flags of ["", "s", "m", "sm"]) {
          expect(regexMatches(text, literal, flags)).toBe(regexMatches(text, viaEngine, flags));
          for (const replacement of ["", "[$0]", "$1", "\\$", "z"]) {
            const engineReplacement = replacement === "$1" ? "" : replacement.replace("$0", "$1");
            expect(replaceAll(text, literal, replacement, flags)).toBe(
              replaceAll(text, viaEngine, engineReplacement, flags),
            );
          }
        }
      }
    }
    expect(replaceAll("a.b.c", ".", "-", "q")).toBe("a-b-c");
    expect(regexMatches("a+b", "a+b", "q")).toBe(true);
  });

  it("replaces a literal in a long text in linear time and charges the characters read", () => {
    let charged = 0;
    const text = "ab".repeat(2_000_000);
    const started = performance.now();
    const result = replaceAll(text, "b", "bb", "", (steps) => {
      charged += steps;
    });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result.length).toBe(6_000_000);
    expect(charged).toBe(Math.ceil(text.length / 32));
  });
});
