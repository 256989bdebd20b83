import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { utf8 } from "../../../shared/core/encoding";
import { sha256Hex } from "../../../shared/core/sha256";
import { gitBlobId, gitFileSection, LineDiffBudget, quoteGitPath, textOf } from "../../../shared/generate/git-patch";
import {
  type ComparedArtifact,
  comparePaths,
  DiffTooLargeError,
  jobDiffPage,
  jobPatch,
  pairByPath,
  UnsortedListingError,
} from "../../../shared/generate/job-diff";

interface File {
  content: Uint8Array;
  chmod?: string;
}
type Tree = Record<string, string | Uint8Array | File>;
type Row = ComparedArtifact & { content: Uint8Array };

function fileOf(entry: string | Uint8Array | File): File {
  if (typeof entry === "string") return { content: utf8(entry) };
  if (entry instanceof Uint8Array) return { content: entry };
  return entry;
}

/** A job's artifact rows as the index lists them: by path, in UTF-8 byte order. */
async function rowsOf(tree: Tree): Promise<Row[]> {
  const rows = await Promise.all(
    Object.entries(tree).map(async ([path, entry]) => {
      const { content, chmod } = fileOf(entry);
      return { path, sha256: await sha256Hex(content), size: content.length, chmod: chmod ?? null, content };
    }),
  );
  return rows.sort((x, y) => Buffer.compare(Buffer.from(x.path), Buffer.from(y.path)));
}

async function* listed<T>(rows: T[], reads?: { count: number }): AsyncGenerator<T> {
  for (const row of rows) {
    if (reads) reads.count++;
    yield row;
  }
}

async function sourceOf(a: Tree, b: Tree, read: string[] = []) {
  const rowsA = await rowsOf(a);
  const rowsB = await rowsOf(b);
  return {
    a: listed(rowsA),
    b: listed(rowsB),
    read: async (row: Row) => {
      read.push(row.path);
      return row.content;
    },
  };
}

const PATCH_BOUNDS = {
  maxPatchBytes: 8 << 20,
  maxFileBytes: 4 << 20,
  maxReadBytes: 32 << 20,
  lineDiffWork: 20_000_000,
};
const PAGE_BOUNDS = {
  limit: 50,
  maxFileDiffBytes: 64 << 10,
  maxFileBytes: 4 << 20,
  maxReadBytes: 16 << 20,
  lineDiffWork: 20_000_000,
};

const temporary: string[] = [];
afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function git(cwd: string, args: string[], input?: string): string {
  return execFileSync("git", args, { cwd, input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

/** Writes a tree into a fresh git work tree. */
function checkout(tree: Tree): string {
  const dir = mkdtempSync(join(tmpdir(), "kgen-job-diff-"));
  temporary.push(dir);
  git(dir, ["init", "-q"]);
  for (const [path, entry] of Object.entries(tree)) {
    const { content, chmod } = fileOf(entry);
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content, { mode: chmod ? Number.parseInt(chmod, 8) : 0o644 });
  }
  return dir;
}

/** Every file under dir (but .git) with its bytes and whether it is executable. */
function filesUnder(dir: string, prefix = ""): Record<string, { content: string; executable: boolean }> {
  const out: Record<string, { content: string; executable: boolean }> = {};
  for (const name of readdirSync(join(dir, prefix))) {
    const path = prefix ? `${prefix}/${name}` : name;
    if (path === ".git") continue;
    const stat = statSync(join(dir, path));
    if (stat.isDirectory()) Object.assign(out, filesUnder(dir, path));
    else
      out[path] = {
        content: readFileSync(join(dir, path)).toString("hex"),
        executable: (stat.mode & 0o100) !== 0,
      };
  }
  return out;
}

/**
 * Applies the patch from a to b with `git apply` and expects b's files byte for byte; then applies it
 * in reverse (`git apply -R`) and expects a's again.
 */
async function expectGitApplies(a: Tree, b: Tree): Promise<string> {
  const { sections } = await jobPatch(await sourceOf(a, b), PATCH_BOUNDS);
  const patch = sections.join("");
  const dir = checkout(a);
  const original = filesUnder(dir);
  git(dir, ["apply", "--check", "-"], patch);
  git(dir, ["apply", "-"], patch);
  expect(filesUnder(dir)).toEqual(filesUnder(checkout(b)));
  git(dir, ["apply", "-R", "-"], patch);
  expect(filesUnder(dir)).toEqual(original);
  return patch;
}

describe("job diff: git patch", () => {
  it("changes text, adds, deletes, and handles missing final newlines; git apply gives b byte for byte", async () => {
    const a: Tree = {
      "src/a.ts": "export const a = 1;\nexport const b = 2;\nexport const c = 3;\n",
      "src/gone.ts": "removed\n",
      "README.md": "# Title\n\ntext without final newline",
      "keep.txt": "same\n",
      "gains-newline.txt": "x",
    };
    const b: Tree = {
      "src/a.ts": "export const a = 1;\nexport const b = 20;\nexport const c = 3;\n",
      "src/new.ts": "line one\nline two",
      "README.md": "# Title\n\ntext now with final newline\n",
      "keep.txt": "same\n",
      "gains-newline.txt": "x\n",
    };
    const patch = await expectGitApplies(a, b);
    expect(patch).toContain("diff --git a/src/new.ts b/src/new.ts\nnew file mode 100644\n");
    expect(patch).toContain(
      "--- /dev/null\n+++ b/src/new.ts\n@@ -0,0 +1,2 @@\n+line one\n+line two\n\\ No newline at end of file\n",
    );
    expect(patch).toContain("deleted file mode 100644\n");
    expect(patch).toContain("--- a/src/gone.ts\n+++ /dev/null\n");
    expect(patch).toContain("-export const b = 2;\n+export const b = 20;\n");
    expect(patch).not.toContain("keep.txt");
    // Sections in path (byte) order.
    const order = [...patch.matchAll(/^diff --git a\/(\S+)/gm)].map((match) => match[1]);
    expect(order).toEqual(["README.md", "gains-newline.txt", "src/a.ts", "src/gone.ts", "src/new.ts"]);
  });

  it("matches the index line git itself writes (full blob ids)", async () => {
    const a: Tree = { "f.txt": "one\ntwo\n" };
    const b: Tree = { "f.txt": "one\nthree\n" };
    const patch = await expectGitApplies(a, b);
    const dir = checkout(a);
    const oldId = git(dir, ["hash-object", "f.txt"]).trim();
    writeFileSync(join(dir, "f.txt"), "one\nthree\n");
    const newId = git(dir, ["hash-object", "f.txt"]).trim();
    expect(patch).toContain(`index ${oldId}..${newId} 100644\n`);
    expect(await gitBlobId(utf8("one\nthree\n"))).toBe(newId);
  });

  it("adds, changes and deletes binary files with GIT binary patch literals", async () => {
    const png = new Uint8Array(3000).map((_, i) => (i * 7919) % 256);
    const changed = png.map((byte, i) => (i % 5 === 0 ? 255 - byte : byte));
    const withNul = utf8("text\u0000with a NUL\n");
    const patch = await expectGitApplies(
      { "img/logo.png": png, "data.bin": withNul, "empty.txt": "" },
      { "img/logo.png": changed, "img/new.png": png, "empty.txt": "" },
    );
    expect(patch).toContain("GIT binary patch\nliteral 3000\n");
    expect(patch).toContain("deleted file mode 100644\n");
  });

  it("adds and deletes empty files, and turns text into binary and back", async () => {
    await expectGitApplies(
      { "gone-empty": "", "t2b.dat": "plain text\n", "b2t.dat": new Uint8Array([0, 1, 2]) },
      { "new-empty": "", "t2b.dat": new Uint8Array([0, 1, 2, 3]), "b2t.dat": "now text\n" },
    );
  });

  it("records executable bits as git modes: mode only, mode and content, new executable file", async () => {
    const patch = await expectGitApplies(
      { "bin/run": { content: utf8("#!/bin/sh\necho a\n") }, "bin/tool": { content: utf8("#!/bin/sh\n") } },
      {
        "bin/run": { content: utf8("#!/bin/sh\necho b\n"), chmod: "0755" },
        "bin/tool": { content: utf8("#!/bin/sh\n"), chmod: "0755" },
        "bin/new": { content: utf8("#!/bin/sh\n"), chmod: "0755" },
      },
    );
    expect(patch).toContain("diff --git a/bin/tool b/bin/tool\nold mode 100644\nnew mode 100755\n");
    expect(patch).toContain("new file mode 100755\n");
  });

  it("keeps CRLF line endings, a byte order mark, unicode and spaces in paths", async () => {
    await expectGitApplies(
      {
        "win.txt": "one\r\ntwo\r\nthree\r\n",
        "bom.txt": "\ufeffhello\n",
        "dir with space/naïve ✓.md": "a\n",
        'we"ird\\name.txt': "q\n",
      },
      {
        "win.txt": "one\r\n2\r\nthree\r\n",
        "bom.txt": "\ufeffhello world\n",
        "dir with space/naïve ✓.md": "b\n",
        'we"ird\\name.txt': "r\n",
      },
    );
    expect(quoteGitPath('a/we"ird\\name\t.txt')).toBe('"a/we\\"ird\\\\name\\t.txt"');
  });

  it("gives a large rewrite (past the line-diff bound) as a whole-file hunk that still applies", async () => {
    const lines = (seed: number) =>
      `${Array.from({ length: 40_000 }, (_, i) => `line ${(i * seed) % 100_003}`).join("\n")}\n`;
    const patch = await expectGitApplies({ "big.txt": lines(7) }, { "big.txt": lines(13) });
    expect(patch).toContain("@@ -1,40000 +1,40000 @@\n");
  });

  it("shares one line-diff budget across the files; once spent, whole-file hunks that still apply", async () => {
    const before = `${Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n")}\n`;
    const after = before.replace("line 15\n", "line fifteen\n");
    const a: Tree = { "1.txt": before, "2.txt": before };
    const b: Tree = { "1.txt": after, "2.txt": after };
    const lineDiffWork = 200;
    const { sections } = await jobPatch(await sourceOf(a, b), { ...PATCH_BOUNDS, lineDiffWork });
    expect(sections[0]).toContain("@@ -13,7 +13,7 @@\n");
    expect(sections[1]).toContain("@@ -1,30 +1,30 @@\n");
    const budget = new LineDiffBudget(lineDiffWork);
    // 31 lines a side (the count includes the empty one after the last line break): (62 + 3) × 3 ≤ 200.
    expect(budget.editsFor(62)).toBe(3);
    budget.spend(62, 2);
    // The second file may explore one edit, fewer than its change needs.
    expect(budget.editsFor(62)).toBe(1);
    budget.spend(62, 1);
    expect(budget.editsFor(62)).toBe(0);
    const dir = checkout(a);
    git(dir, ["apply", "-"], sections.join(""));
    expect(filesUnder(dir)).toEqual(filesUnder(checkout(b)));
  });

  it("is empty for the same job, and deterministic", async () => {
    const tree: Tree = { "a.txt": "a\n", "b/c.txt": "c\n" };
    const same = await jobPatch(await sourceOf(tree, tree), PATCH_BOUNDS);
    expect(same.sections).toEqual([]);
    expect(same.summary).toEqual({ added: 0, removed: 0, changed: 0, unchanged: 2 });
    const other: Tree = { "a.txt": "A\n", "d.txt": "d\n" };
    const first = (await jobPatch(await sourceOf(tree, other), PATCH_BOUNDS)).sections.join("");
    const second = (await jobPatch(await sourceOf(tree, other), PATCH_BOUNDS)).sections.join("");
    expect(second).toBe(first);
  });

  it("refuses a patch over its bounds instead of returning part of it", async () => {
    const a: Tree = { "a.txt": "x\n".repeat(1000), "b.txt": "tiny\n" };
    const b: Tree = { "a.txt": "y\n".repeat(1000), "b.txt": "small\n" };
    const tooLong = jobPatch(await sourceOf(a, b), { ...PATCH_BOUNDS, maxPatchBytes: 1000 });
    await expect(tooLong).rejects.toBeInstanceOf(DiffTooLargeError);
    await expect(tooLong).rejects.toMatchObject({ subject: "patch", path: "a.txt", limit: 1000 });
    await expect(jobPatch(await sourceOf(a, b), { ...PATCH_BOUNDS, maxFileBytes: 1999 })).rejects.toMatchObject({
      subject: "file",
      path: "a.txt",
    });
    await expect(jobPatch(await sourceOf(a, b), { ...PATCH_BOUNDS, maxReadBytes: 4000 })).rejects.toMatchObject({
      subject: "read",
      path: "b.txt",
    });
  });

  it("reads only contents whose sha256 differ", async () => {
    const read: string[] = [];
    await jobPatch(
      await sourceOf(
        { "same.txt": "s\n", "mode.sh": "m\n", "text.txt": "1\n", "gone.txt": "g\n" },
        { "same.txt": "s\n", "mode.sh": { content: utf8("m\n"), chmod: "0755" }, "text.txt": "2\n", "new.txt": "n\n" },
        read,
      ),
      PATCH_BOUNDS,
    );
    expect(read.sort()).toEqual(["gone.txt", "new.txt", "text.txt", "text.txt"]);
  });
});

describe("job diff: pages", () => {
  const a: Tree = {
    "a.txt": "1\n",
    "b.txt": "same\n",
    "c.txt": "old\n",
    "d.bin": new Uint8Array([0, 1]),
    "e.txt": "gone\n",
  };
  const b: Tree = {
    "a.txt": "1\n",
    "b.txt": "same\n",
    "c.txt": "new\n",
    "d.bin": new Uint8Array([0, 2]),
    "f.txt": "added\n",
    "g.sh": { content: utf8("#!/bin/sh\n"), chmod: "0755" },
  };

  it("summarizes every path and lists the differences with their diffs", async () => {
    const page = await jobDiffPage(await sourceOf(a, b), PAGE_BOUNDS);
    expect(page.summary).toEqual({ added: 2, removed: 1, changed: 2, unchanged: 2 });
    expect(page.nextCursor).toBeUndefined();
    expect(page.files.map((file) => [file.path, file.status])).toEqual([
      ["c.txt", "changed"],
      ["d.bin", "changed"],
      ["e.txt", "removed"],
      ["f.txt", "added"],
      ["g.sh", "added"],
    ]);
    const [text, binary, removed, added] = page.files;
    expect(text?.diff).toContain("@@ -1,1 +1,1 @@\n-old\n+new\n");
    expect(text?.a).toEqual({ sha256: await sha256Hex("old\n"), size: 4, chmod: null });
    expect(binary).toMatchObject({
      binary: true,
      diff: expect.stringContaining("Binary files a/d.bin and b/d.bin differ\n"),
    });
    expect(removed?.b).toBeUndefined();
    expect(added?.a).toBeUndefined();
    expect(page.files.every((file) => file.truncated === undefined)).toBe(true);
  });

  it("pages by path with a cursor; the summary stays the whole comparison", async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await jobDiffPage(await sourceOf(a, b), { ...PAGE_BOUNDS, limit: 2, after });
      expect(page.summary).toEqual({ added: 2, removed: 1, changed: 2, unchanged: 2 });
      expect(page.files.length).toBeLessThanOrEqual(2);
      seen.push(...page.files.map((file) => file.path));
      after = page.nextCursor;
      if (after === undefined) break;
    }
    expect(seen).toEqual(["c.txt", "d.bin", "e.txt", "f.txt", "g.sh"]);
  });

  it("cuts a long diff at the per-file bound, and leaves out files past the file bound", async () => {
    const long = await jobDiffPage(await sourceOf({ "x.txt": "a\n".repeat(500) }, { "x.txt": "b\n".repeat(500) }), {
      ...PAGE_BOUNDS,
      maxFileDiffBytes: 300,
    });
    const [file] = long.files;
    expect(file?.truncated).toBe(true);
    expect(new TextEncoder().encode(file?.diff).length).toBeLessThanOrEqual(300);
    expect(file?.diff?.endsWith("\n")).toBe(true);
    const read: string[] = [];
    const huge = await jobDiffPage(await sourceOf({ "x.txt": "a\n".repeat(500) }, { "x.txt": "b\n" }, read), {
      ...PAGE_BOUNDS,
      maxFileBytes: 100,
    });
    expect(huge.files[0]).toMatchObject({ path: "x.txt", status: "changed", truncated: true });
    expect(huge.files[0]?.diff).toBeUndefined();
    expect(read).toEqual([]);
  });

  it("ends a page early rather than read more than its byte bound", async () => {
    const big = "z\n".repeat(100);
    const page = await jobDiffPage(
      await sourceOf({ "1.txt": big, "2.txt": big, "3.txt": big }, { "1.txt": "1\n", "2.txt": "2\n", "3.txt": "3\n" }),
      { ...PAGE_BOUNDS, maxReadBytes: 450 },
    );
    expect(page.files.map((file) => file.path)).toEqual(["1.txt", "2.txt"]);
    expect(page.nextCursor).toBe("2.txt");
  });

  it("merges by UTF-8 byte order, as the index sorts, and refuses an unsorted listing", async () => {
    // U+FF5E sorts before U+1F600 in UTF-8 (and code points), after it in UTF-16 units.
    expect(comparePaths("\uff5e", "\u{1f600}")).toBeLessThan(0);
    expect("\uff5e" < "\u{1f600}").toBe(false);
    expect(comparePaths("ab", "abc")).toBeLessThan(0);
    expect(comparePaths("same", "same")).toBe(0);
    const rows = await rowsOf({ "\uff5e.txt": "x\n", "\u{1f600}.txt": "y\n" });
    const pairs = [];
    for await (const pair of pairByPath(listed(rows), listed(rows))) pairs.push(pair.path);
    expect(pairs).toEqual(["\uff5e.txt", "\u{1f600}.txt"]);
    const unsorted = pairByPath(listed([...rows].reverse()), listed(rows));
    await expect(
      (async () => {
        for await (const _ of unsorted);
      })(),
    ).rejects.toBeInstanceOf(UnsortedListingError);
  });

  it("treats invalid UTF-8 and NUL bytes as binary, and keeps a byte order mark", async () => {
    expect(textOf(new Uint8Array([0xc3, 0x28]))).toBeNull();
    expect(textOf(utf8("a\u0000b"))).toBeNull();
    expect(textOf(utf8("\ufeffx"))).toBe("\ufeffx");
    const section = await gitFileSection(
      { kind: "mode", path: "x", oldMode: "100644", newMode: "100755" },
      { maxBytes: 1000, binaryPatch: true, lineDiff: new LineDiffBudget(0) },
    );
    expect(section.text).toBe("diff --git a/x b/x\nold mode 100644\nnew mode 100755\n");
  });
});
