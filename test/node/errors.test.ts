import { describe, expect, it } from "vitest";
import { problemTypeUri } from "../../shared/errors/http-error";

describe("problemTypeUri", () => {
  it("resolves slugs against the problem base", () => {
    expect(problemTypeUri("quota-exceeded")).toBe("https://kgen.dev/problems/quota-exceeded");
  });
});
