import { describe, expect, it } from "vitest";
import { fetchManifest, MAX_MANIFEST_BYTES, ManifestError } from "../../../workers/monitors/manifest-fetch";
import { destinationPolicy } from "../../../workers/outbound/destination-guard";
import { installReceivers } from "../webhooks/receiver";

const receivers = installReceivers();
const production = destinationPolicy("production");
const SHA = "a".repeat(64);

async function refusal(url: string, policy = production): Promise<string> {
  try {
    await fetchManifest(url, {}, policy);
  } catch (error) {
    if (error instanceof ManifestError) return error.message;
    throw error;
  }
  return "fetched";
}

describe("fetchManifest", () => {
  it("reads a manifest and sends the monitor's headers", async () => {
    const receiver = receivers.add(() => Response.json({ files: [{ path: "src/a.ts", sha256: SHA }] }));
    const manifest = await fetchManifest(receiver.url, { authorization: "Bearer t" }, production);
    expect(manifest.files).toEqual([{ path: "src/a.ts", sha256: SHA }]);
    expect(receivers.received(receiver.name)[0]?.headers.authorization).toBe("Bearer t");
  });

  it("refuses private, plain-http and loopback destinations, also behind a redirect", async () => {
    expect(await refusal("http://ci.example.com/manifest.json")).toContain("only https");
    expect(await refusal("https://10.1.2.3/manifest.json")).toContain("not a public unicast address");
    expect(await refusal("https://169.254.169.254/latest")).toContain("not a public unicast address");
    const toLoopback = receivers.add(
      () => new Response(null, { status: 302, headers: { location: "https://127.0.0.1/m" } }),
    );
    expect(await refusal(toLoopback.url)).toContain("unsafe manifest URL");
    const toLocalhost = receivers.add(
      () => new Response(null, { status: 307, headers: { location: "http://localhost:8787/" } }),
    );
    expect(await refusal(toLocalhost.url)).toContain("unsafe manifest URL");
  });

  it("refuses oversized, slow, failing and malformed manifests", { timeout: 15_000 }, async () => {
    const big = receivers.add(() => new Response(new Uint8Array(MAX_MANIFEST_BYTES + 1)));
    expect(await refusal(big.url)).toContain("manifest too large");
    const slow = receivers.add(
      (_request, signal) =>
        new Promise<Response>((_resolve, reject) =>
          signal.addEventListener("abort", () => reject(new Error("aborted"))),
        ),
    );
    const started = Date.now();
    expect(await refusal(slow.url)).toContain("timed out");
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(await refusal(receivers.add(() => new Response("x", { status: 500 })).url)).toContain("answered 500");
    expect(await refusal(receivers.add(() => new Response("{")).url)).toContain("not UTF-8 JSON");
    const badHash = receivers.add(() => Response.json({ files: [{ path: "a", sha256: "nope" }] }));
    expect(await refusal(badHash.url)).toContain("files.0.sha256");
  });
});
