import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { readArchive } from "../../../workers/backup/archive-reader";
import { checkExportBounds, MAX_ARCHIVE_ENTRIES } from "../../../workers/backup/tenant-archive";
import { HttpError } from "../../../workers/problems/http-error";
import { emptyArchiveManifest } from "../../support/empty-archive-manifest";

const problemOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return { status: (error as HttpError).status, type: (error as HttpError).type };
  }
  throw new Error("expected a problem");
};

describe("tenant archive bounds", () => {
  it("refuses an export over its entries or its triples, and passes one at the bounds", () => {
    expect(() => checkExportBounds({ entries: MAX_ARCHIVE_ENTRIES, triples: 1000 }, 100)).not.toThrow();
    expect(problemOf(() => checkExportBounds({ entries: MAX_ARCHIVE_ENTRIES + 1, triples: 0 }, 100))).toEqual({
      status: 422,
      type: "export-too-large",
    });
    expect(problemOf(() => checkExportBounds({ entries: 1, triples: 1001 }, 100))).toEqual({
      status: 422,
      type: "export-too-large",
    });
  });

  it("refuses an archive with more entries than allowed, before reading its manifest", async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i <= MAX_ARCHIVE_ENTRIES; i++) files[`e/${i}`] = new Uint8Array(0);
    const zip = zipSync(files, { level: 0 });
    await expect(readArchive(zip, { maxEntryBytes: 1024, maxTotalBytes: 1024 })).rejects.toMatchObject({
      status: 413,
      type: "archive-too-large",
    });
  });

  it("names the entry whose content does not match the manifest", async () => {
    const manifest = emptyArchiveManifest("tn_a", [{ name: "monitors.json", sha256: "0".repeat(64), size: 2 }]);
    const zip = zipSync({ "manifest.json": strToU8(JSON.stringify(manifest)), "monitors.json": strToU8("{}") });
    await expect(readArchive(zip, { maxEntryBytes: 1024, maxTotalBytes: 4096 })).rejects.toMatchObject({
      status: 422,
      type: "invalid-archive",
      message: expect.stringContaining("monitors.json"),
    });
  });
});
