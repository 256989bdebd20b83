import type { Command } from "commander";
import { loadProject } from "../config";
import { outputOf } from "../output";
import { createProjectKey } from "../signing-key";

/** `kgen keys init`: the project's local signing key for attestations. */
export function registerKeysCommands(program: Command): void {
  const keys = program.command("keys").description("the project's local Ed25519 signing key");
  keys
    .command("init")
    .description("create .kgen/signing-key.json (private, mode 0600) and .kgen/jwks.json (public)")
    .option("--force", "replace an existing key")
    .action(async (options: { force?: boolean }, command: Command) => {
      const output = outputOf(command);
      const project = loadProject(process.cwd());
      const created = await createProjectKey(project.root, { force: options.force === true });
      output.result(
        { kid: created.kid, publicJwk: created.publicJwk, jwks: created.jwksFile },
        (value) => `key id ${value.kid}\npublic JWK ${JSON.stringify(value.publicJwk)}\nwritten to ${value.jwks}`,
      );
    });
}
