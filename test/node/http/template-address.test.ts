import { describe, expect, it } from "vitest";
import { HttpError } from "../../../workers/problems/http-error";
import {
  assertPlainTemplateAddress,
  rawPathname,
  unsafeTemplateAddressReason,
} from "../../../workers/routes/template-address";

describe("unsafeTemplateAddressReason", () => {
  it("accepts plain addresses", () => {
    for (const address of ["gen/x.njk", "models/src/model.ts.njk", "a-b_c/d.e.f", "gen/.hidden", "g/%c3%a9.njk"]) {
      expect(unsafeTemplateAddressReason(address), address).toBeUndefined();
    }
  });

  it.each([
    ["gen/../priv/x.njk", "dot segment"],
    ["gen/./x.njk", "dot segment"],
    ["..", "dot segment"],
    ["gen/%2e%2e/x", "encoded character %2e"],
    ["gen/%2E%2e/x", "encoded character %2e"],
    ["gen/.%2e/x", "encoded character %2e"],
    ["gen/x%2Enjk", "encoded character %2e"],
    ["gen/a\\b", "backslash"],
    ["gen/a%5cb", "encoded character %5c"],
    ["gen/a%5Cb", "encoded character %5c"],
    ["gen/a%2fb", "encoded character %2f"],
    ["gen/a%2Fb", "encoded character %2f"],
    ["gen/a%00b", "encoded character %00"],
    ["gen/a%0Ab", "encoded character %0a"],
    ["gen/a%1fb", "encoded character %1f"],
    ["gen/a%7Fb", "encoded character %7f"],
    ["gen/a\u0000b", "control character"],
    ["gen/a\nb", "control character"],
    ["gen//x", "empty segment"],
    ["gen/x/", "empty segment"],
    ["/gen/x", "empty segment"],
    ["gen/a%2", "malformed percent-encoding"],
    ["gen/a%zz", "malformed percent-encoding"],
  ])("%s: %s", (address, reason) => {
    expect(unsafeTemplateAddressReason(address)).toBe(reason);
  });

  it("fuzz: inserting any unsafe piece into a plain address makes it unsafe", () => {
    const unsafe = ["..", ".", "", "%2e%2e", "%2E.", "\\", "%5c", "%2f", "%00", "%1b", "%7f", "\u0001", "a%"];
    let seed = 11;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 500; i++) {
      const segments = Array.from({ length: 1 + next(5) }, (_, j) => `s${i}-${j}.njk`);
      expect(unsafeTemplateAddressReason(segments.join("/"))).toBeUndefined();
      segments.splice(next(segments.length + 1), 0, unsafe[next(unsafe.length)] as string);
      expect(unsafeTemplateAddressReason(segments.join("/")), segments.join("/")).toBeDefined();
    }
  });
});

describe("rawPathname and assertPlainTemplateAddress", () => {
  it("keeps the URL's path as written, without query or fragment", () => {
    expect(rawPathname("http://h/v1/templates/gen/../x?a=1")).toBe("/v1/templates/gen/../x");
    expect(rawPathname("https://h:8787/v1/templates/g/%2e%2e#f")).toBe("/v1/templates/g/%2e%2e");
    expect(rawPathname("http://h")).toBe("/");
  });

  it("throws a 422 invalid-template-path naming the reason, and nothing for a plain address", () => {
    expect(() => assertPlainTemplateAddress("http://h/v1/templates/gen/x.njk?x=..", "/templates/")).not.toThrow();
    try {
      assertPlainTemplateAddress("http://h/v1/templates/gen/%2e%2e/x.njk", "/templates/");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(HttpError);
      expect(error).toMatchObject({
        status: 422,
        type: "invalid-template-path",
        extensions: { reason: "encoded character %2e" },
      });
    }
  });
});
