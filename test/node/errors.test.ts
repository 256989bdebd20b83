import { describe, expect, it } from "vitest";
import { problemTypeUri } from "../../workers/problems/http-error";

describe("problemTypeUri", () => {
  it("resolves slugs against the problem base", () => {
    expect(problemTypeUri("quota-exceeded")).toBe("https://kgen.dev/problems/quota-exceeded");
  });

  it("resolves slugs that begin like a scheme, and keeps a type already under the base", () => {
    expect(problemTypeUri("http-error")).toBe("https://kgen.dev/problems/http-error");
    expect(problemTypeUri("https-only")).toBe("https://kgen.dev/problems/https-only");
    expect(problemTypeUri("https://kgen.dev/problems/not-found")).toBe("https://kgen.dev/problems/not-found");
  });
});
