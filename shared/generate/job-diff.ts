import { type FileChange, type FileSection, gitFileSection, gitModeOf, LineDiffBudget } from "./git-patch";

/**
 * The comparison of two jobs' artifacts, file by file, as a reviewer reads a pull request: which
 * paths were added, removed or changed (content by sha256, or permission bits), with a unified diff
 * of each, or one git patch of all of them.
 *
 * Both listings arrive sorted by path and are merged as they stream, so only a bounded window of
 * either job is in memory; only contents whose sha256 differ are read. Output follows path order
 * (UTF-8 byte order, the order the artifact index lists and git sorts in).
 */

/** What the comparison needs of an artifact row. */
export interface ComparedArtifact {
  path: string;
  sha256: string;
  size: number;
  /** Permission bits as four octal digits; null for the default. */
  chmod: string | null;
}

export type PathStatus = "added" | "removed" | "changed" | "unchanged";

export interface PathComparison<T extends ComparedArtifact> {
  path: string;
  status: PathStatus;
  a: T | null;
  b: T | null;
}

export interface DiffSummary {
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
}

/** One differing file of a diff page. */
export interface FileDiff {
  path: string;
  status: Exclude<PathStatus, "unchanged">;
  a?: { sha256: string; size: number; chmod: string | null };
  b?: { sha256: string; size: number; chmod: string | null };
  /** Either side is not UTF-8 text; `diff` then is git's "Binary files … differ" line. */
  binary?: boolean;
  /** The file's section of the git patch: unified hunks for text. Absent when the file is too large to read. */
  diff?: string;
  /** `diff` was cut at the per-file bound, or left out because a side is larger than the file bound. */
  truncated?: boolean;
}

export interface DiffPage {
  summary: DiffSummary;
  files: FileDiff[];
  /** The path to pass as `after` for the next page; absent on the last. */
  nextCursor?: string;
}

/** Where the two listings come from and how an artifact's bytes are read. */
export interface JobDiffSource<T extends ComparedArtifact> {
  a: AsyncIterable<T>;
  b: AsyncIterable<T>;
  read(artifact: T): Promise<Uint8Array>;
}

export interface DiffPageOptions {
  /** Only paths after this one (a previous page's nextCursor). */
  after?: string;
  /** Most files on the page. */
  limit: number;
  /** Most UTF-8 bytes of one file's diff; longer ones are cut and marked truncated. */
  maxFileDiffBytes: number;
  /** Files with a side larger than this are listed without a diff (truncated). */
  maxFileBytes: number;
  /** Most artifact bytes read for one page; a page ends early (with a nextCursor) rather than read more. */
  maxReadBytes: number;
  /** Line-diff work for the whole page (see LineDiffBudget). */
  lineDiffWork: number;
}

export interface PatchOptions {
  /** Most UTF-8 bytes of the whole patch. */
  maxPatchBytes: number;
  /** Most bytes of one side of one file. */
  maxFileBytes: number;
  /** Most artifact bytes read for the whole patch. */
  maxReadBytes: number;
  /** Line-diff work for the whole patch (see LineDiffBudget). */
  lineDiffWork: number;
}

/** The comparison does not fit its bounds as one patch; pages of the JSON form still do. */
export class DiffTooLargeError extends Error {
  override name = "DiffTooLargeError";
  constructor(
    /** What passed its bound: "patch", "file", "read". */
    readonly subject: "patch" | "file" | "read",
    readonly limit: number,
    readonly path: string,
  ) {
    super(
      subject === "patch"
        ? `The patch is larger than ${limit} bytes (at ${JSON.stringify(path)}).`
        : subject === "file"
          ? `${JSON.stringify(path)} is larger than ${limit} bytes, the most one file of a patch may be.`
          : `The patch needs more than ${limit} bytes of artifacts read (at ${JSON.stringify(path)}).`,
    );
  }
}

/** The listings are not sorted by path as the merge needs (a bug of the source, never of input). */
export class UnsortedListingError extends Error {
  override name = "UnsortedListingError";
}

/** Orders paths by their UTF-8 bytes, which is code point order (JavaScript's `<` compares UTF-16 units). */
export function comparePaths(x: string, y: string): number {
  const length = Math.min(x.length, y.length);
  for (let i = 0; i < length; i++) {
    const cx = x.codePointAt(i) as number;
    const cy = y.codePointAt(i) as number;
    if (cx !== cy) return cx < cy ? -1 : 1;
    if (cx > 0xffff) i++;
  }
  return x.length - y.length;
}

/** A listing's rows, checked to be in strictly increasing path order. */
async function* strictlySorted<T extends ComparedArtifact>(rows: AsyncIterable<T>, side: string): AsyncGenerator<T> {
  let previous: string | undefined;
  for await (const row of rows) {
    if (previous !== undefined && comparePaths(previous, row.path) >= 0) {
      throw new UnsortedListingError(
        `listing ${side} is not sorted by path: ${JSON.stringify(row.path)} after ${JSON.stringify(previous)}`,
      );
    }
    previous = row.path;
    yield row;
  }
}

function statusOf<T extends ComparedArtifact>(a: T | null, b: T | null): PathStatus {
  if (a === null) return "added";
  if (b === null) return "removed";
  return a.sha256 === b.sha256 && (a.chmod ?? null) === (b.chmod ?? null) ? "unchanged" : "changed";
}

/** Merges two path-sorted listings into one comparison per path, in path order. */
export async function* pairByPath<T extends ComparedArtifact>(
  listingA: AsyncIterable<T>,
  listingB: AsyncIterable<T>,
): AsyncGenerator<PathComparison<T>> {
  const a = strictlySorted(listingA, "a")[Symbol.asyncIterator]();
  const b = strictlySorted(listingB, "b")[Symbol.asyncIterator]();
  let nextA = await a.next();
  let nextB = await b.next();
  while (!nextA.done || !nextB.done) {
    const order = nextA.done ? 1 : nextB.done ? -1 : comparePaths(nextA.value.path, nextB.value.path);
    const left = order <= 0 && !nextA.done ? nextA.value : null;
    const right = order >= 0 && !nextB.done ? nextB.value : null;
    const path = (left ?? right)?.path as string;
    yield { path, status: statusOf(left, right), a: left, b: right };
    if (left) nextA = await a.next();
    if (right) nextB = await b.next();
  }
}

function sideView(artifact: ComparedArtifact) {
  return { sha256: artifact.sha256, size: artifact.size, chmod: artifact.chmod ?? null };
}

/** Bytes that must be read to diff a pair: only the sides whose content differs. */
function bytesToRead(pair: PathComparison<ComparedArtifact>): number {
  if (pair.a && pair.b && pair.a.sha256 === pair.b.sha256) return 0;
  return (pair.a?.size ?? 0) + (pair.b?.size ?? 0);
}

/** The change git sees for a differing pair, reading the contents it needs. */
async function fileChangeOf<T extends ComparedArtifact>(
  pair: PathComparison<T>,
  read: (artifact: T) => Promise<Uint8Array>,
): Promise<FileChange> {
  const { path, a, b } = pair;
  if (a === null && b !== null) return { kind: "added", path, mode: gitModeOf(b.chmod), content: await read(b) };
  if (b === null && a !== null) return { kind: "removed", path, mode: gitModeOf(a.chmod), content: await read(a) };
  const before = a as T;
  const after = b as T;
  const oldMode = gitModeOf(before.chmod);
  const newMode = gitModeOf(after.chmod);
  if (before.sha256 === after.sha256) return { kind: "mode", path, oldMode, newMode };
  return { kind: "changed", path, oldMode, newMode, oldContent: await read(before), newContent: await read(after) };
}

/**
 * One page of the comparison: the summary of all paths, and the differing files after `after`, each
 * with its diff. Every listed row is visited (for the summary) but only the page's contents are read.
 */
export async function jobDiffPage<T extends ComparedArtifact>(
  source: JobDiffSource<T>,
  options: DiffPageOptions,
): Promise<DiffPage> {
  const summary: DiffSummary = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  const page: PathComparison<T>[] = [];
  let pageFull = false;
  let more = false;
  let planned = 0;
  for await (const pair of pairByPath(source.a, source.b)) {
    summary[pair.status]++;
    if (pair.status === "unchanged" || (options.after !== undefined && comparePaths(pair.path, options.after) <= 0))
      continue;
    if (pageFull) {
      more = true;
      continue;
    }
    const reads = fitsFileBound(pair, options.maxFileBytes) ? bytesToRead(pair) : 0;
    if (page.length > 0 && planned + reads > options.maxReadBytes) {
      pageFull = true;
      more = true;
      continue;
    }
    page.push(pair);
    planned += reads;
    if (page.length === options.limit) pageFull = true;
  }
  const files: FileDiff[] = [];
  const lineDiff = new LineDiffBudget(options.lineDiffWork);
  for (const pair of page) files.push(await fileDiffOf(pair, source.read, options, lineDiff));
  const last = page.at(-1);
  return { summary, files, ...(more && last ? { nextCursor: last.path } : {}) };
}

function fitsFileBound(pair: PathComparison<ComparedArtifact>, maxFileBytes: number): boolean {
  return (pair.a?.size ?? 0) <= maxFileBytes && (pair.b?.size ?? 0) <= maxFileBytes;
}

async function fileDiffOf<T extends ComparedArtifact>(
  pair: PathComparison<T>,
  read: (artifact: T) => Promise<Uint8Array>,
  options: DiffPageOptions,
  lineDiff: LineDiffBudget,
): Promise<FileDiff> {
  const file: FileDiff = {
    path: pair.path,
    status: pair.status as FileDiff["status"],
    ...(pair.a ? { a: sideView(pair.a) } : {}),
    ...(pair.b ? { b: sideView(pair.b) } : {}),
  };
  if (!fitsFileBound(pair, options.maxFileBytes)) return { ...file, truncated: true };
  const section = await gitFileSection(await fileChangeOf(pair, read), {
    maxBytes: options.maxFileDiffBytes,
    binaryPatch: false,
    lineDiff,
  });
  return {
    ...file,
    ...(section.binary ? { binary: true } : {}),
    diff: section.text,
    ...(section.truncated ? { truncated: true } : {}),
  };
}

/**
 * The whole comparison as one git patch (`git apply` turns job a's files into job b's), as its text
 * chunks in path order; throws DiffTooLargeError as soon as a bound is passed, before anything is
 * returned, so a caller never sends half a patch.
 */
export async function jobPatch<T extends ComparedArtifact>(
  source: JobDiffSource<T>,
  options: PatchOptions,
): Promise<{ sections: string[]; bytes: number; summary: DiffSummary }> {
  const summary: DiffSummary = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  const sections: string[] = [];
  let bytes = 0;
  let read = 0;
  const lineDiff = new LineDiffBudget(options.lineDiffWork);
  for await (const pair of pairByPath(source.a, source.b)) {
    summary[pair.status]++;
    if (pair.status === "unchanged") continue;
    if (!fitsFileBound(pair, options.maxFileBytes))
      throw new DiffTooLargeError("file", options.maxFileBytes, pair.path);
    read += bytesToRead(pair);
    if (read > options.maxReadBytes) throw new DiffTooLargeError("read", options.maxReadBytes, pair.path);
    const section: FileSection = await gitFileSection(await fileChangeOf(pair, source.read), {
      maxBytes: options.maxPatchBytes - bytes,
      binaryPatch: true,
      lineDiff,
    });
    if (section.truncated) throw new DiffTooLargeError("patch", options.maxPatchBytes, pair.path);
    sections.push(section.text);
    bytes += section.bytes;
  }
  return { sections, bytes, summary };
}
