import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import type { Command } from "commander";
import { sha256Hex } from "../../shared/core/sha256";
import { type JsonWebKeySet, verifyEnvelope } from "../../shared/generate/attestation";
import { loadProject } from "../config";
import { CliError, EXIT } from "../exit-codes";
import { outputOf } from "../output";
import { JWKS_FILE } from "../signing-key";

function readJson(path: string, what: string, hint: string): unknown {
  if (!existsSync(path)) throw new CliError(`no ${what} at ${path}`, hint);
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new CliError(`${what} ${path} is not valid JSON: ${(error as Error).message}`, hint);
  }
}

/** `kgen verify <file>`: the file's attestation checked offline, signature and subject digest. */
export function registerVerifyCommand(program: Command): void {
  program
    .command("verify")
    .description("verify a generated file against its attestation, offline")
    .argument("<file>", "a generated file under the project's output folder")
    .option("--jwks <file>", `the public keys to trust (default ${JWKS_FILE})`)
    .action(async (file: string, options: { jwks?: string }, command: Command) => {
      const output = outputOf(command);
      const project = loadProject(process.cwd());
      const target = resolve(process.cwd(), file);
      const artifactPath = relative(resolve(project.root, project.config.output), target).split(sep).join("/");
      if (artifactPath === "" || artifactPath.startsWith("..") || isAbsolute(artifactPath)) {
        throw new CliError(`${file} is not under the output folder ${project.config.output}`, "name a generated file");
      }
      if (!existsSync(target)) throw new CliError(`no file ${file}`, "run `kgen generate` first");
      const envelope = readJson(
        resolve(project.root, project.config.attestations, `${artifactPath}.dsse.json`),
        "attestation",
        "run `kgen generate` to attest the file",
      );
      const jwks = readJson(
        options.jwks ? resolve(process.cwd(), options.jwks) : resolve(project.root, JWKS_FILE),
        "key set",
        "pass --jwks <file>, or run `kgen keys init`",
      ) as JsonWebKeySet;
      const verified = await verifyEnvelope(envelope, jwks, {
        expectedSha256: await sha256Hex(readFileSync(target)),
        expectedPath: artifactPath,
      });
      output.result(
        {
          file: artifactPath,
          valid: verified.valid,
          reasons: verified.reasons,
          details: verified.details,
          keyid: verified.keyid,
        },
        (value) =>
          value.valid
            ? `${value.file}: valid, signed by ${value.keyid}`
            : [`${value.file}: INVALID`, ...value.details.map((detail) => `  ${detail}`)].join("\n"),
      );
      if (!verified.valid) process.exitCode = EXIT.error;
    });
}
