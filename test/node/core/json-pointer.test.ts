import { describe, expect, it } from "vitest";
import { isJsonPointer, JsonPointerSyntaxError, resolveJsonPointer } from "../../../shared/core/json-pointer";

// The example document of RFC 6901, section 5.
const RFC_DOCUMENT = {
  foo: ["bar", "baz"],
  "": 0,
  "a/b": 1,
  "c%d": 2,
  "e^f": 3,
  "g|h": 4,
  "i\\j": 5,
  'k"l': 6,
  " ": 7,
  "m~n": 8,
};

describe("resolveJsonPointer", () => {
  it("resolves every pointer of RFC 6901 section 5", () => {
    const cases: [string, unknown][] = [
      ["", RFC_DOCUMENT],
      ["/foo", ["bar", "baz"]],
      ["/foo/0", "bar"],
      ["/", 0],
      ["/a~1b", 1],
      ["/c%d", 2],
      ["/e^f", 3],
      ["/g|h", 4],
      ["/i\\j", 5],
      ['/k"l', 6],
      ["/ ", 7],
      ["/m~0n", 8],
    ];
    for (const [pointer, value] of cases)
      expect(resolveJsonPointer(RFC_DOCUMENT, pointer), pointer).toEqual({ found: true, value });
  });

  it("unescapes ~01 as ~1, not as /", () => {
    expect(resolveJsonPointer({ "~1": "tilde-one", "/": "slash" }, "/~01")).toEqual({
      found: true,
      value: "tilde-one",
    });
  });

  it("reports missing members, out-of-range and malformed indexes, and walking into scalars as not found", () => {
    const document = { repository: { full_name: "octo/repo", topics: ["a"] }, after: "abc", nothing: null };
    for (const pointer of [
      "/missing",
      "/repository/name",
      "/repository/topics/1",
      "/repository/topics/-",
      "/repository/topics/01",
      "/after/0",
      "/nothing/x",
    ]) {
      expect(resolveJsonPointer(document, pointer), pointer).toEqual({ found: false });
    }
    expect(resolveJsonPointer(document, "/nothing")).toEqual({ found: true, value: null });
  });

  it("follows own properties only", () => {
    expect(resolveJsonPointer({}, "/constructor")).toEqual({ found: false });
    expect(resolveJsonPointer({}, "/__proto__")).toEqual({ found: false });
    expect(resolveJsonPointer([1], "/length")).toEqual({ found: false });
  });

  it("refuses malformed pointers", () => {
    expect(() => resolveJsonPointer({}, "foo")).toThrow(JsonPointerSyntaxError);
    expect(() => resolveJsonPointer({}, "/a~2b")).toThrow(JsonPointerSyntaxError);
    expect(() => resolveJsonPointer({}, "/a~")).toThrow(JsonPointerSyntaxError);
    expect(isJsonPointer("/a/b")).toBe(true);
    expect(isJsonPointer("a/b")).toBe(false);
    expect(isJsonPointer("")).toBe(true);
  });
});
