import type { Command } from "commander";
import { CliError, EXIT } from "../exit-codes";
import { outputOf } from "../output";
import { credentialsFile, normalizePlatformUrl, removeCredentials, saveCredentials } from "../platform/credentials";
import { PlatformClient } from "../platform/platform-client";

interface Me {
  tenant: { id: string; slug: string; name: string };
  role: string;
}

/** `kgen login` and `kgen logout`: the platform credentials of the remote commands. */
export function registerLoginCommands(program: Command): void {
  program
    .command("login")
    .description("check an API key against a platform (GET /v1/me) and store it for the remote commands")
    .requiredOption("--url <url>", "the platform's address, e.g. https://kgen.example.com")
    .option("--key <key>", "the API key (default: KGEN_API_KEY)")
    .action(async (options: { url: string; key?: string }, command: Command) => {
      const output = outputOf(command);
      const url = normalizePlatformUrl(options.url);
      const apiKey = options.key ?? process.env.KGEN_API_KEY;
      if (!apiKey) {
        throw new CliError("no API key given", "pass --key <key> or set KGEN_API_KEY", EXIT.auth);
      }
      const me = (await new PlatformClient({ url, apiKey }).json<Me>("GET", "/v1/me")).value;
      const file = saveCredentials({ url, apiKey });
      output.result(
        { url, tenant: { id: me.tenant.id, slug: me.tenant.slug }, role: me.role, credentials: file },
        (value) =>
          `logged in to ${value.url} as ${value.role} of ${value.tenant.slug} (${value.tenant.id})\ncredentials in ${value.credentials}`,
      );
    });

  program
    .command("logout")
    .description("remove the stored platform credentials")
    .action((_options: unknown, command: Command) => {
      const output = outputOf(command);
      const file = credentialsFile();
      const removed = removeCredentials();
      output.result({ removed, credentials: file }, (value) =>
        value.removed ? `removed ${value.credentials}` : `not logged in (no ${value.credentials})`,
      );
    });
}
