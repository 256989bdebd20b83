import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENGINE_VERSION } from "../../../shared/version";
import { runKgen } from "./run-cli";

const folder = () => mkdtempSync(join(tmpdir(), "kgen-cli-"));

describe("kgen", { timeout: 60_000 }, () => {
  it("prints its version and exits 0", () => {
    const run = runKgen(["--version"], { cwd: folder() });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(ENGINE_VERSION);
  });

  it("prints nothing on stderr for a command that succeeds (no runtime warnings)", () => {
    const cwd = folder();
    writeFileSync(join(cwd, "g.nt"), "<urn:a> <urn:b> <urn:c> .\n");
    const run = runKgen(["graph", "hash", "g.nt"], { cwd });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
  });

  it("lists the platform commands in its help", () => {
    const run = runKgen(["--help"], { cwd: folder() });
    expect(run.status).toBe(0);
    for (const command of ["login", "logout", "push", "remote", "pull", "diff"])
      expect(run.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });

  it("exits 2 for a command line it does not understand", () => {
    const run = runKgen(["no-such-command"], { cwd: folder() });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("no-such-command");
  });
});

describe("kgen.config.json", () => {
  it("names the field that is wrong, with exit code 1", async () => {
    const { loadProject } = await import("../../../cli/config");
    const root = folder();
    writeFileSync(
      join(root, "kgen.config.json"),
      JSON.stringify({ graphs: [{ name: "m", files: [] }], generators: [] }),
    );
    expect(() => loadProject(root)).toThrow(/graphs\.0\.files/);
    writeFileSync(join(root, "kgen.config.json"), "{ not json");
    expect(() => loadProject(root)).toThrow(/not valid JSON/);
    expect(() => loadProject(folder())).toThrow(/no kgen.config.json/);
  });

  it("fills the defaults of a minimal config", async () => {
    const { loadProject } = await import("../../../cli/config");
    const root = folder();
    writeFileSync(
      join(root, "kgen.config.json"),
      JSON.stringify({
        graphs: [{ name: "model", files: ["model.ttl"] }],
        generators: [{ name: "shop", path: "generator" }],
      }),
    );
    expect(loadProject(root).config).toMatchObject({
      params: {},
      output: ".",
      lock: "kgen.lock.json",
      attestations: ".kgen/attestations",
    });
  });
});
