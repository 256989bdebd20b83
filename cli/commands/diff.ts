import type { Command } from "commander";
import { outputOf } from "../output";
import { resolveCredentials } from "../platform/credentials";
import { PlatformClient } from "../platform/platform-client";

interface DiffPage {
  a: string;
  b: string;
  summary: { added: number; removed: number; changed: number; unchanged: number };
  files: unknown[];
  nextCursor: string | null;
}

/** Every page of a JSON comparison, the files in path order and the summary once. */
async function allPages(client: PlatformClient, path: string): Promise<Omit<DiffPage, "nextCursor">> {
  let cursor: string | null = null;
  let first: DiffPage | null = null;
  const files: unknown[] = [];
  do {
    const query: string = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page: DiffPage = (await client.json<DiffPage>("GET", `${path}?${query}`)).value;
    first ??= page;
    files.push(...page.files);
    cursor = page.nextCursor;
  } while (cursor);
  return { a: first.a, b: first.b, summary: first.summary, files };
}

/** `kgen diff <jobA> <jobB>`: what changed from one platform job to another, as a git patch. */
export function registerDiffCommand(program: Command): void {
  program
    .command("diff")
    .argument("<jobA>", "the job compared from")
    .argument("<jobB>", "the job compared to")
    .description(
      "compare two completed platform jobs: a git patch from a's files to b's (`git apply` takes it); --json lists each file",
    )
    .action(async (jobA: string, jobB: string, _options: unknown, command: Command) => {
      const output = outputOf(command);
      const client = new PlatformClient(resolveCredentials());
      const path = `/v1/jobs/${encodeURIComponent(jobA)}/diff/${encodeURIComponent(jobB)}`;
      if (output.json) {
        output.result(await allPages(client, path), () => "");
        return;
      }
      const { bytes } = await client.request("GET", path, { accept: "text/x-diff" });
      process.stdout.write(bytes);
    });
}
