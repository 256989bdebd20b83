import { describe, expect, it } from "vitest";
import { expandUrlTemplate, UrlTemplateError, urlTemplatePlaceholders } from "../../../shared/core/url-template";

const PUSH = {
  after: "7f3e2a9c1b0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f",
  ref: "refs/heads/main",
  repository: { full_name: "octo-org/model repo", id: 42, private: false, owner: { login: "octo-org" } },
};

describe("URL templates", () => {
  it("fills dotted paths from the payload, encoding each path segment", () => {
    expect(
      expandUrlTemplate("https://raw.example.com/{repository.full_name}/{after}/model.ttl?id={repository.id}", PUSH),
    ).toBe("https://raw.example.com/octo-org/model%20repo/7f3e2a9c1b0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f/model.ttl?id=42");
    expect(urlTemplatePlaceholders("https://h.example/{a.b}/{c}")).toEqual(["a.b", "c"]);
  });

  it("rejects missing, non-scalar, empty and dot-segment values", () => {
    for (const template of [
      "https://h.example/{missing}",
      "https://h.example/{repository.owner}",
      "https://h.example/{repository.full_name.x}",
    ]) {
      expect(() => expandUrlTemplate(template, PUSH), template).toThrow(UrlTemplateError);
    }
    for (const value of ["", "..", "a/../b", "a//b", "."]) {
      expect(() => expandUrlTemplate("https://h.example/{v}", { v: value }), value).toThrow(UrlTemplateError);
    }
    expect(expandUrlTemplate("https://h.example/{v}", { v: "?#%" })).toBe("https://h.example/%3F%23%25");
  });

  it("refuses placeholders in the scheme or host, stray braces and relative templates", () => {
    for (const template of [
      "https://{host}/x",
      "https://{a}.example.com/x",
      "{scheme}://h.example/x",
      "https://h.example/{a",
      "https://h.example/{a b}",
      "/relative/{a}",
    ]) {
      expect(() => expandUrlTemplate(template, { host: "evil", a: "x", scheme: "http" }), template).toThrow(
        UrlTemplateError,
      );
    }
    expect(expandUrlTemplate("https://h.example", {})).toBe("https://h.example");
  });
});
