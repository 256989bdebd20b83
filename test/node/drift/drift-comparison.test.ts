import { describe, expect, it } from "vitest";
import { utf8 } from "../../../shared/core/encoding";
import { sha256Hex } from "../../../shared/core/sha256";
import { type ActualFile, compareDrift, type ExpectedArtifact } from "../../../shared/drift/drift-comparison";
import { PathGlob } from "../../../shared/drift/path-glob";

const contents = new Map<string, Uint8Array>();

async function artifact(path: string, text: string, extra: Partial<ExpectedArtifact> = {}): Promise<ExpectedArtifact> {
  const bytes = utf8(text);
  contents.set(path, bytes);
  return { path, mode: "write", sha256: await sha256Hex(bytes), size: bytes.byteLength, ...extra };
}

async function file(path: string, text: string | Uint8Array, withContent = true): Promise<ActualFile> {
  const bytes = typeof text === "string" ? utf8(text) : text;
  return { path, sha256: await sha256Hex(bytes), ...(withContent ? { content: bytes } : { size: bytes.byteLength }) };
}

const reads: string[] = [];
const readContent = async (expected: ExpectedArtifact) => {
  reads.push(expected.path);
  return contents.get(expected.path) as Uint8Array;
};

describe("compareDrift", () => {
  it("reports a clean tree clean, reading no content when hashes match", async () => {
    reads.length = 0;
    const expected = [await artifact("a.ts", "export const a = 1;\n"), await artifact("b.ts", "b\n")];
    const result = await compareDrift(
      expected,
      [await file("a.ts", "export const a = 1;\n", false), await file("b.ts", "b\n")],
      readContent,
      {
        listsWholeTree: true,
      },
    );
    expect(result).toMatchObject({
      status: "clean",
      summary: { expected: 2, matched: 2, modified: 0, missing: 0, unexpected: 0 },
    });
    expect(reads).toEqual([]);
  });

  it("classifies a flipped byte, a truncation, CRLF, a lost final newline, a missing and an extra file", async () => {
    const text = "line one\nline two\n";
    const expected = await Promise.all(
      ["flip.txt", "cut.txt", "crlf.txt", "eol.txt", "gone.txt"].map((path) => artifact(path, text)),
    );
    const result = await compareDrift(
      expected,
      [
        await file("flip.txt", "line one\nline twO\n"),
        await file("cut.txt", "line one\nli"),
        await file("crlf.txt", "line one\r\nline two\r\n"),
        await file("eol.txt", "line one\nline two"),
        await file("extra.txt", "x"),
      ],
      readContent,
      { listsWholeTree: true },
    );
    expect(result.modified.map(({ path, reason }) => [path, reason])).toEqual([
      ["flip.txt", "content"],
      ["cut.txt", "content"],
      ["crlf.txt", "line-endings"],
      ["eol.txt", "line-endings"],
    ]);
    expect(result.missing).toEqual(["gone.txt"]);
    expect(result.unexpected).toEqual(["extra.txt"]);
    expect(result.status).toBe("drift");
    const flip = result.modified[0];
    expect(flip?.diff).toContain("-line two");
    expect(flip?.diff).toContain("+line twO");
    expect(flip?.expected).toEqual({ sha256: expected[0]?.sha256, size: 18 });
  });

  it("leaves out unexpected files when the tree is not listed in full", async () => {
    const result = await compareDrift(
      [await artifact("a.txt", "a")],
      [await file("a.txt", "a"), await file("z.txt", "z")],
      readContent,
      {
        listsWholeTree: false,
      },
    );
    expect(result).toMatchObject({ status: "clean", unexpected: [] });
  });

  it("reports a changed file sent as a hash as content drift without reading or diffing", async () => {
    reads.length = 0;
    const result = await compareDrift(
      [await artifact("a.txt", "a\n")],
      [await file("a.txt", "a\r\n", false)],
      readContent,
      {
        listsWholeTree: true,
      },
    );
    expect(result.modified).toEqual([
      {
        path: "a.txt",
        reason: "content",
        expected: { sha256: expect.any(String), size: 2 },
        actual: { sha256: expect.any(String), size: 3 },
      },
    ]);
    expect(reads).toEqual([]);
  });

  it("checks a block as present and identical: edits outside pass, edits inside drift", async () => {
    const block = await artifact("routes.ts", "  orders,\n", { mode: "inject" });
    const around = (inside: string, outside = "// routes") => `${outside}\nconst routes = [\n${inside}];\n`;
    const check = async (text: string) =>
      (await compareDrift([block], [await file("routes.ts", text)], readContent, { listsWholeTree: true })).modified;
    expect(await check(around("  orders,\n"))).toEqual([]);
    expect(await check(around("  orders,\n", "// routes, edited by hand"))).toEqual([]);
    expect((await check(around("  orderz,\n")))[0]).toMatchObject({ path: "routes.ts", reason: "content" });
    expect((await check(around("  orders,\r\n")))[0]).toMatchObject({ reason: "line-endings" });
    // A block line extended in place is an edit inside the block, not a line-ending change.
    expect((await check(around("  orders, customers,\n")))[0]).toMatchObject({ reason: "content" });
  });

  it("gives a diff of the planned file for a block whose placement is known, marker-missing when the marker is gone", async () => {
    const block = await artifact("list.ts", "b\n", {
      mode: "inject",
      inject: { position: "after", marker: "// list" },
    });
    const check = async (text: string) =>
      (await compareDrift([block], [await file("list.ts", text)], readContent, { listsWholeTree: true })).modified[0];
    const edited = await check("// list\nB\n");
    expect(edited).toMatchObject({ reason: "content" });
    expect(edited?.diff).toContain("-b");
    expect(edited?.expected.sha256).toBe(await sha256Hex("// list\nb\nB\n"));
    expect(await check("// other\n")).toMatchObject({ reason: "marker-missing" });
  });

  it("calls a block-mode file sent as a hash unverifiable, unless it is exactly the block", async () => {
    const block = await artifact("log.txt", "entry\n", { mode: "append" });
    const asHash = async (text: string) =>
      (await compareDrift([block], [await file("log.txt", text, false)], readContent, { listsWholeTree: true }))
        .modified;
    expect(await asHash("entry\n")).toEqual([]);
    expect((await asHash("before\nentry\n"))[0]).toMatchObject({ reason: "unverifiable-block" });
  });

  it("reports binary files by hashes and sizes only", async () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x01]);
    contents.set("logo.bin", bytes);
    const expected: ExpectedArtifact = { path: "logo.bin", mode: "write", sha256: await sha256Hex(bytes), size: 4 };
    const result = await compareDrift(
      [expected],
      [await file("logo.bin", new Uint8Array([0xff, 0xfe, 0x00, 0x02]))],
      readContent,
      {
        listsWholeTree: true,
      },
    );
    expect(result.modified).toEqual([
      {
        path: "logo.bin",
        reason: "content",
        expected: { sha256: expected.sha256, size: 4 },
        actual: { sha256: expect.any(String), size: 4 },
      },
    ]);
  });

  it("cuts a long diff at a line break and flags it; gives up a diff needing too many edits", async () => {
    const long = Array.from({ length: 400 }, (_, i) => `line ${i}`).join("\n");
    const changed = long.replace(/line/g, "LINE");
    const expected = [await artifact("long.txt", long)];
    const cut = await compareDrift(expected, [await file("long.txt", changed)], readContent, {
      listsWholeTree: true,
      limits: { maxDiffChars: 1_000, maxDiffEdits: 10_000 },
    });
    expect(cut.modified[0]?.diffTruncated).toBe(true);
    expect(cut.modified[0]?.diff?.length).toBeLessThanOrEqual(1_000);
    expect(cut.modified[0]?.diff?.endsWith("\n")).toBe(true);
    const skipped = await compareDrift(expected, [await file("long.txt", changed)], readContent, {
      listsWholeTree: true,
      limits: { maxDiffChars: 1_000, maxDiffEdits: 10 },
    });
    expect(skipped.modified[0]).toMatchObject({ reason: "content", diffTruncated: true });
    expect(skipped.modified[0]?.diff).toBeUndefined();
  });
});

describe("PathGlob", () => {
  it("matches * within a segment, ? one character and ** any segments", () => {
    expect(new PathGlob("src/*.ts").matches("src/a.ts")).toBe(true);
    expect(new PathGlob("src/*.ts").matches("src/x/a.ts")).toBe(false);
    expect(new PathGlob("src/**/*.ts").matches("src/a.ts")).toBe(true);
    expect(new PathGlob("src/**/*.ts").matches("src/x/y/a.ts")).toBe(true);
    expect(new PathGlob("**").matches("a/b/c")).toBe(true);
    expect(new PathGlob("a?c").matches("abc")).toBe(true);
    expect(new PathGlob("a?c").matches("a/c")).toBe(false);
    expect(new PathGlob("docs/readme.md").matches("docs/readme.md")).toBe(true);
  });

  it("stays fast on a hostile pattern", () => {
    const started = performance.now();
    const glob = new PathGlob(`${"**/".repeat(30)}${"*a".repeat(40)}b`);
    expect(glob.matches(`${"a/".repeat(60)}${"a".repeat(200)}`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
