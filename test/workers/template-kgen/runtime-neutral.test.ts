import { describe, expect, it } from "vitest";
import {
  applyWriteMode,
  evaluateSkipIf,
  FrontmatterError,
  parseFrontmatter,
} from "../../../shared/template/frontmatter";
import {
  createKgenEnvironmentSpec,
  deriveRenderSeed,
  inspectTemplate,
  sha256HexSync,
} from "../../../shared/template/kgen";

describe("KGEN template modules inside workerd", () => {
  it("run the filters and globals as plain functions", async () => {
    const spec = createKgenEnvironmentSpec({
      buildTime: "2024-05-01T00:00:00Z",
      seed: deriveRenderSeed(sha256HexSync("t"), { a: 1 }),
    });
    const webDigest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("kgen"));
    const webHex = [...new Uint8Array(webDigest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
    expect(spec.filters.hash?.("kgen")).toBe(webHex);
    expect(spec.filters.pascalCase?.("order line")).toBe("OrderLine");
    expect(spec.filters.json?.({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(spec.filters.compact?.("http://xmlns.com/foaf/0.1/name")).toBe("foaf:name");
    expect(spec.globals.now?.("YYYY-MM-DD")).toBe("2024-05-01");
    const again = createKgenEnvironmentSpec({
      buildTime: "2024-05-01T00:00:00Z",
      seed: deriveRenderSeed(sha256HexSync("t"), { a: 1 }),
    });
    expect(again.globals.random?.()).toBe(spec.globals.random?.());
  });
  it("parse frontmatter, apply write modes and analyse templates with nunjucks' parser", () => {
    const source =
      "---\nto: src/{{ name }}.ts\ninject: true\nafter: '// slot'\nskipIf: '!enabled'\n---\n{{ item | camelCase }}\n";
    const { frontmatter, body } = parseFrontmatter(source);
    expect(applyWriteMode("a\n// slot\nb\n", "x\n", frontmatter)).toBe("a\n// slot\nx\nb\n");
    expect(evaluateSkipIf(frontmatter.skipIf, { enabled: false })).toBe(true);
    expect(body).toBe("{{ item | camelCase }}\n");
    expect(inspectTemplate(source).variables).toEqual(["enabled", "item", "name"]);
    expect(() => parseFrontmatter("---\nappend: true\nprepend: true\n---\n")).toThrow(FrontmatterError);
  });
});
