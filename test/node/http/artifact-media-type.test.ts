import { describe, expect, it } from "vitest";
import { artifactMediaType } from "../../../workers/storage/artifact-media-type";

describe("artifactMediaType", () => {
  it("names code and configuration by extension, as text in UTF-8", () => {
    expect(artifactMediaType("src/models/product.ts")).toBe("text/typescript; charset=utf-8");
    expect(artifactMediaType("deploy/app.YAML")).toBe("application/yaml; charset=utf-8");
    expect(artifactMediaType("docs/README.md")).toBe("text/markdown; charset=utf-8");
    expect(artifactMediaType("schema.json")).toBe("application/json; charset=utf-8");
    expect(artifactMediaType("Dockerfile")).toBe("text/plain; charset=utf-8");
  });

  it("names common binary formats without a charset", () => {
    expect(artifactMediaType("assets/logo.png")).toBe("image/png");
    expect(artifactMediaType("module.wasm")).toBe("application/wasm");
  });

  it("serves unknown extensions, hidden files without a known name and bare names as bytes", () => {
    expect(artifactMediaType("assets/logo.bin")).toBe("application/octet-stream");
    expect(artifactMediaType(".secret")).toBe("application/octet-stream");
    expect(artifactMediaType("bin/tool")).toBe("application/octet-stream");
  });
});
