import { chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  type Ed25519PrivateJwk,
  type Ed25519PublicJwk,
  generateSigningKey,
  type Signer,
  signerFromPrivateJwk,
  toPublicJwk,
} from "../shared/crypto/ed25519";
import { publicJwkSchema } from "../shared/crypto/tenant-keys";
import { writeFileAtomically } from "./atomic-write";
import { CliError } from "./exit-codes";

export const SIGNING_KEY_FILE = ".kgen/signing-key.json";
export const JWKS_FILE = ".kgen/jwks.json";

const privateJwkSchema = publicJwkSchema.extend({ d: publicJwkSchema.shape.x });

export interface CreatedKey {
  kid: string;
  publicJwk: Ed25519PublicJwk;
  keyFile: string;
  jwksFile: string;
}

/**
 * A fresh Ed25519 key in the platform's shape (kid = RFC 7638 thumbprint): the private JWK in
 * `.kgen/signing-key.json` (mode 0600), the public one in `.kgen/jwks.json`.
 */
export async function createProjectKey(root: string, options: { force: boolean }): Promise<CreatedKey> {
  const keyFile = resolve(root, SIGNING_KEY_FILE);
  const jwksFile = resolve(root, JWKS_FILE);
  if (existsSync(keyFile) && !options.force) {
    throw new CliError(
      `${SIGNING_KEY_FILE} already exists`,
      "pass --force to replace it (older attestations then need the old public key)",
    );
  }
  const key = await generateSigningKey();
  mkdirSync(dirname(keyFile), { recursive: true });
  writeFileAtomically(keyFile, `${JSON.stringify(key.privateJwk, null, 2)}\n`, 0o600);
  chmodSync(keyFile, 0o600);
  writeFileAtomically(jwksFile, `${JSON.stringify({ keys: [toPublicJwk(key.publicJwk)] }, null, 2)}\n`);
  return { kid: key.kid, publicJwk: toPublicJwk(key.publicJwk), keyFile, jwksFile };
}

/** The project's signer, or null when there is no key yet. */
export async function loadProjectSigner(root: string): Promise<Signer | null> {
  const keyFile = resolve(root, SIGNING_KEY_FILE);
  if (!existsSync(keyFile)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(keyFile, "utf8"));
  } catch (error) {
    throw new CliError(
      `${SIGNING_KEY_FILE} is not valid JSON: ${(error as Error).message}`,
      "run `kgen keys init --force`",
    );
  }
  const jwk = privateJwkSchema.safeParse(parsed);
  if (!jwk.success) {
    throw new CliError(`${SIGNING_KEY_FILE} is not an Ed25519 private JWK`, "run `kgen keys init --force`");
  }
  return signerFromPrivateJwk(jwk.data as Ed25519PrivateJwk);
}
