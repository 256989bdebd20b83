import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { jsonOf, runKgen } from "./run-cli";
import { shopProject } from "./shop-project";

/** examples/shop, generated once with a fresh key; each test works on its own copy. */
let generated: string;

function copy(): string {
  const root = mkdtempSync(join(tmpdir(), "kgen-verify-"));
  cpSync(generated, root, { recursive: true });
  return root;
}

describe("kgen verify", { timeout: 120_000 }, () => {
  beforeAll(() => {
    generated = shopProject({}, "kgen-verify-");
    expect(runKgen(["keys", "init"], { cwd: generated }).status).toBe(0);
    expect(runKgen(["generate"], { cwd: generated }).status).toBe(0);
  }, 120_000);

  it("accepts a generated file with its attestation and the project's key set", () => {
    const root = copy();
    const run = runKgen(["--json", "verify", "out/src/types/Order.ts"], { cwd: root });
    expect(run.status).toBe(0);
    const kid = JSON.parse(readFileSync(join(root, ".kgen/jwks.json"), "utf8")).keys[0].kid;
    expect(jsonOf(run)).toMatchObject({ file: "src/types/Order.ts", valid: true, reasons: [], keyid: kid });
    const human = runKgen(["verify", "src/types/Order.ts"], { cwd: join(root, "out") });
    expect(human.status).toBe(0);
    expect(human.stdout).toContain("valid");
  });

  it("rejects an edited file: subject mismatch, exit 1", () => {
    const root = copy();
    writeFileSync(join(root, "out/openapi.yaml"), "edited\n");
    const run = runKgen(["--json", "verify", "out/openapi.yaml"], { cwd: root });
    expect(run.status).toBe(1);
    expect(jsonOf(run)).toMatchObject({ valid: false, reasons: ["subject-mismatch"] });
  });

  it("rejects a signature under a key outside the trusted set", () => {
    const root = copy();
    const other = copy();
    expect(runKgen(["keys", "init", "--force"], { cwd: other }).status).toBe(0);
    const run = runKgen(["--json", "verify", "out/openapi.yaml", "--jwks", join(other, ".kgen/jwks.json")], {
      cwd: root,
    });
    expect(run.status).toBe(1);
    expect(jsonOf(run).reasons).toContain("unknown-key");
  });

  it("rejects a tampered attestation", () => {
    const root = copy();
    const file = join(root, ".kgen/attestations/openapi.yaml.dsse.json");
    const envelope = JSON.parse(readFileSync(file, "utf8"));
    const other = JSON.parse(readFileSync(join(root, ".kgen/attestations/src/types/Order.ts.dsse.json"), "utf8"));
    writeFileSync(file, JSON.stringify({ ...envelope, payload: other.payload }));
    const run = runKgen(["--json", "verify", "out/openapi.yaml"], { cwd: root });
    expect(run.status).toBe(1);
    expect(jsonOf(run).valid).toBe(false);
  });

  it("reports a missing attestation, a missing key set, a missing file and a file outside the output folder", () => {
    const root = copy();
    rmSync(join(root, ".kgen/attestations/openapi.yaml.dsse.json"));
    const noAttestation = runKgen(["verify", "out/openapi.yaml"], { cwd: root });
    expect(noAttestation.status).toBe(1);
    expect(noAttestation.stderr).toContain("no attestation");
    const noJwks = runKgen(["verify", "out/docs/order.md", "--jwks", "absent.json"], { cwd: root });
    expect(noJwks.status).toBe(1);
    expect(noJwks.stderr).toContain("no key set");
    const noFile = runKgen(["verify", "out/absent.ts"], { cwd: root });
    expect(noFile.status).toBe(1);
    expect(noFile.stderr).toContain("no file");
    const outside = runKgen(["verify", "model.ttl"], { cwd: root });
    expect(outside.status).toBe(1);
    expect(outside.stderr).toContain("not under the output folder");
    expect(runKgen(["verify"], { cwd: root }).status).toBe(2);
  });
});
