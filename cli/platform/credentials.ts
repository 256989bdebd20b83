import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomically } from "../atomic-write";
import { CliError, EXIT } from "../exit-codes";

/** Where a platform lives and the API key that speaks for one tenant. */
export interface Credentials {
  url: string;
  apiKey: string;
}

export interface ResolvedCredentials extends Credentials {
  /** Where each part came from, for `kgen login --json` and error hints (never the key itself). */
  source: { url: "env" | "file"; apiKey: "env" | "file" };
}

const credentialsSchema = z.object({ url: z.string().min(1), apiKey: z.string().min(1) });

/** `$XDG_CONFIG_HOME/kgen` (default `~/.config/kgen`). */
export function credentialsFolder(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.length > 0 ? env.XDG_CONFIG_HOME : join(homedir(), ".config");
  return join(base, "kgen");
}

export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(credentialsFolder(env), "credentials.json");
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A platform URL as the client uses it: http(s), no trailing slash, no query or fragment. */
export function normalizePlatformUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`${raw} is not a URL`, "pass the platform's address, e.g. --url https://kgen.example.com");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new CliError(
      `${raw} is not an http(s) URL`,
      "pass the platform's address, e.g. --url https://kgen.example.com",
    );
  }
  if (url.protocol === "http:" && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new CliError(
      `${raw} is plain http: the API key would cross the network unencrypted`,
      "use the platform's https:// address (plain http is only for localhost)",
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new CliError(
      // Not echoed: user:password in a URL is exactly what must not be printed.
      "the platform URL carries credentials, a query or a fragment",
      "pass the bare address; the key goes in --key",
    );
  }
  return url.href.replace(/\/+$/, "");
}

function readCredentialsFile(file: string): Credentials | null {
  if (!existsSync(file)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new CliError(`${file} is not valid JSON`, "run `kgen login` again", EXIT.auth);
  }
  const result = credentialsSchema.safeParse(parsed);
  if (!result.success) throw new CliError(`${file} has no url and apiKey`, "run `kgen login` again", EXIT.auth);
  return result.data;
}

/**
 * The credentials a remote command uses: `KGEN_URL` and `KGEN_API_KEY` each override the file
 * `kgen login` wrote. Missing either is exit 4 with a hint.
 */
export function resolveCredentials(env: NodeJS.ProcessEnv = process.env): ResolvedCredentials {
  const stored = readCredentialsFile(credentialsFile(env));
  const url = env.KGEN_URL ? normalizePlatformUrl(env.KGEN_URL) : stored?.url;
  const apiKey = env.KGEN_API_KEY ? env.KGEN_API_KEY : stored?.apiKey;
  if (!url || !apiKey) {
    throw new CliError(
      "not logged in to a KGEN platform",
      "run `kgen login --url <platform> --key <api key>`, or set KGEN_URL and KGEN_API_KEY",
      EXIT.auth,
    );
  }
  return { url, apiKey, source: { url: env.KGEN_URL ? "env" : "file", apiKey: env.KGEN_API_KEY ? "env" : "file" } };
}

/** Writes the credentials file: folder 0700, file 0600, written atomically. */
export function saveCredentials(credentials: Credentials, env: NodeJS.ProcessEnv = process.env): string {
  const folder = credentialsFolder(env);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  chmodSync(folder, 0o700);
  const file = credentialsFile(env);
  writeFileAtomically(
    file,
    `${JSON.stringify({ url: credentials.url, apiKey: credentials.apiKey }, null, 2)}\n`,
    0o600,
  );
  chmodSync(file, 0o600);
  return file;
}

/** Removes the credentials file; false when there was none. */
export function removeCredentials(env: NodeJS.ProcessEnv = process.env): boolean {
  const file = credentialsFile(env);
  if (!existsSync(file)) return false;
  rmSync(file);
  return true;
}
