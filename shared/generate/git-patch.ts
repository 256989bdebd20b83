import { structuredPatch } from "diff";
import { zlibSync } from "fflate";
import { bytesToHex, utf8 } from "../core/encoding";

/**
 * One file's section of a git patch (`diff --git`), in the format `git apply` accepts: text as
 * unified hunks with three lines of context, binary content as a `GIT binary patch` (literals of
 * the new content and, for `git apply -R`, of the old one; or,
 * for reading, git's "Binary files … differ" line), the mode lines git knows (100644, 100755), and
 * full blob ids on the `index` line, which git needs to apply a binary patch.
 *
 * Deterministic: the same contents give the same text. The line diff is bounded by the number of
 * edits it may explore; past that bound the hunk replaces the whole file, which applies just as well.
 */

/** The file modes git records for a regular file. */
export type GitMode = "100644" | "100755";

/** One file that differs between two trees. Contents are read only when they differ. */
export type FileChange =
  | { kind: "added"; path: string; mode: GitMode; content: Uint8Array }
  | { kind: "removed"; path: string; mode: GitMode; content: Uint8Array }
  | {
      kind: "changed";
      path: string;
      oldMode: GitMode;
      newMode: GitMode;
      oldContent: Uint8Array;
      newContent: Uint8Array;
    }
  | { kind: "mode"; path: string; oldMode: GitMode; newMode: GitMode };

const CONTEXT_LINES = 3;
/**
 * Edits the line diff explores for one file. Its cost grows with (lines + edits) × edits, and past
 * about 500 edits a hunk of the whole file is as readable as a minimal one.
 */
const MAX_EDITS_PER_FILE = 500;
/** Upper bound on (lines of both sides) × (edits explored) for one file. */
const LINE_DIFF_WORK_PER_FILE = 5_000_000;
const NULL_BLOB_ID = "0".repeat(40);
const NO_NEWLINE = "\\ No newline at end of file";
const BASE85 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
/** Bytes of deflated data per line of a binary literal (git's own width). */
const BINARY_LINE_BYTES = 52;

/**
 * The line-diff work one request may do, shared by all its files, in units of (lines + edits) × edits.
 * Once spent, files get whole-file hunks: still correct, found in linear time.
 */
export class LineDiffBudget {
  constructor(public remaining: number) {}

  /** Edits the next diff of this many lines may explore (0: none). */
  editsFor(lines: number): number {
    const affordable = Math.min(this.remaining, LINE_DIFF_WORK_PER_FILE);
    let edits = Math.min(MAX_EDITS_PER_FILE, Math.floor(affordable / lines));
    while (edits > 0 && (lines + edits) * edits > affordable) edits--;
    return edits;
  }

  spend(lines: number, edits: number): void {
    this.remaining = Math.max(0, this.remaining - (lines + edits) * edits);
  }
}

export interface SectionOptions {
  /** Most UTF-8 bytes of the section; beyond them it ends at the last whole line that fits. */
  maxBytes: number;
  /** A `GIT binary patch` for binary content (applicable); otherwise git's "Binary files … differ" line. */
  binaryPatch: boolean;
  lineDiff: LineDiffBudget;
}

export interface FileSection {
  text: string;
  /** UTF-8 length of `text`. */
  bytes: number;
  /** Either side is not UTF-8 text (or holds a NUL byte, git's own test). */
  binary: boolean;
  /** The section was cut at `maxBytes`. */
  truncated: boolean;
}

/** The git mode of an artifact's `chmod` (four octal digits): executable by its owner or not. */
export function gitModeOf(chmod: string | null): GitMode {
  if (chmod === null) return "100644";
  return (Number.parseInt(chmod, 8) & 0o100) !== 0 ? "100755" : "100644";
}

/** Git's object id of a blob: SHA-1 of `blob <size>\0` and the bytes. */
export async function gitBlobId(content: Uint8Array): Promise<string> {
  const header = utf8(`blob ${content.length}\0`);
  const object = new Uint8Array(header.length + content.length);
  object.set(header);
  object.set(content, header.length);
  return bytesToHex(await crypto.subtle.digest("SHA-1", object));
}

/** The text of UTF-8 content without NUL bytes (a byte order mark is kept), else null. */
export function textOf(content: Uint8Array): string | null {
  if (content.includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(content);
  } catch {
    return null;
  }
}

function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

/** A path as git writes it in a patch: C-quoted when it holds a quote, a backslash or a control character. */
export function quoteGitPath(path: string): string {
  const needsQuotes = [...path].some((char) => char === '"' || char === "\\" || isControl(char.charCodeAt(0)));
  if (!needsQuotes) return path;
  const escapes: Record<string, string> = {
    "\u0007": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\u000b": "\\v",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
  };
  let quoted = '"';
  for (const char of path) {
    const code = char.charCodeAt(0);
    quoted += escapes[char] ?? (code < 0x20 || code === 0x7f ? `\\${code.toString(8).padStart(3, "0")}` : char);
  }
  return `${quoted}"`;
}

/** UTF-8 length of a string, without encoding it. */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}

/** Lines of a text as a hunk prints them (without their line break), and whether the last one has none. */
function linesOf(text: string): { lines: string[]; finalNewline: boolean } {
  if (text === "") return { lines: [], finalNewline: true };
  const finalNewline = text.endsWith("\n");
  const lines = (finalNewline ? text.slice(0, -1) : text).split("\n");
  return { lines, finalNewline };
}

/** One hunk that removes every line of the old text and adds every line of the new one. */
function wholeFileHunk(oldText: string, newText: string): Hunk {
  const before = linesOf(oldText);
  const after = linesOf(newText);
  const lines: string[] = [];
  for (const line of before.lines) lines.push(`-${line}`);
  if (!before.finalNewline) lines.push(NO_NEWLINE);
  for (const line of after.lines) lines.push(`+${line}`);
  if (!after.finalNewline) lines.push(NO_NEWLINE);
  return {
    oldStart: before.lines.length === 0 ? 0 : 1,
    oldLines: before.lines.length,
    newStart: after.lines.length === 0 ? 0 : 1,
    newLines: after.lines.length,
    lines,
  };
}

function lineCount(text: string): number {
  let count = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) count++;
  return count;
}

/** The unified hunks from one text to another (none when they are equal), within the line-diff budget. */
export function textHunks(oldText: string, newText: string, budget: LineDiffBudget): Hunk[] {
  if (oldText === newText) return [];
  if (oldText === "" || newText === "") return [wholeFileHunk(oldText, newText)];
  const lines = lineCount(oldText) + lineCount(newText);
  const maxEditLength = budget.editsFor(lines);
  if (maxEditLength === 0) return [wholeFileHunk(oldText, newText)];
  const patch = structuredPatch("a", "b", oldText, newText, undefined, undefined, {
    context: CONTEXT_LINES,
    maxEditLength,
  });
  if (!patch) {
    budget.spend(lines, maxEditLength);
    return [wholeFileHunk(oldText, newText)];
  }
  let edits = 0;
  for (const hunk of patch.hunks) for (const line of hunk.lines) if (line[0] === "+" || line[0] === "-") edits++;
  budget.spend(lines, edits);
  // Unified diff quirk: an empty range names the line before it.
  return patch.hunks.map((hunk) => ({
    ...hunk,
    oldStart: hunk.oldLines === 0 ? hunk.oldStart - 1 : hunk.oldStart,
    newStart: hunk.newLines === 0 ? hunk.newStart - 1 : hunk.newStart,
  }));
}

/** Git's base85 of bytes: five characters per (last possibly partial) group of four. */
function base85(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let value = 0;
    for (let j = 0; j < 4; j++) value = value * 256 + (bytes[i + j] ?? 0);
    let group = "";
    for (let j = 0; j < 5; j++) {
      group = (BASE85[value % 85] as string) + group;
      value = Math.floor(value / 85);
    }
    out += group;
  }
  return out;
}

/** A binary literal hunk: the content deflated, in git's base85 lines, and the blank line that ends it. */
function binaryLiteral(content: Uint8Array): string[] {
  const deflated = zlibSync(content, { level: 9 });
  const lines = [`literal ${content.length}`];
  for (let i = 0; i < deflated.length; i += BINARY_LINE_BYTES) {
    const chunk = deflated.subarray(i, i + BINARY_LINE_BYTES);
    const lengthChar =
      chunk.length <= 26 ? String.fromCharCode(64 + chunk.length) : String.fromCharCode(96 + chunk.length - 26);
    lines.push(lengthChar + base85(chunk));
  }
  lines.push("");
  return lines;
}

/** Collects lines up to a byte budget; past it, `truncated` is set and further lines are dropped. */
class BoundedLines {
  readonly lines: string[] = [];
  bytes = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  push(line: string): boolean {
    if (this.truncated) return false;
    const size = utf8Length(line) + 1;
    if (this.bytes + size > this.maxBytes) {
      this.truncated = true;
      return false;
    }
    this.lines.push(line);
    this.bytes += size;
    return true;
  }
}

/** The patch section of one changed file. */
export async function gitFileSection(change: FileChange, options: SectionOptions): Promise<FileSection> {
  const path = change.path;
  const oldName = quoteGitPath(`a/${path}`);
  const newName = quoteGitPath(`b/${path}`);
  const out = new BoundedLines(options.maxBytes);
  out.push(`diff --git ${oldName} ${newName}`);
  if (change.kind === "mode") {
    out.push(`old mode ${change.oldMode}`);
    out.push(`new mode ${change.newMode}`);
    return { text: sectionText(out), bytes: out.bytes, binary: false, truncated: out.truncated };
  }
  const oldContent = change.kind === "added" ? null : change.kind === "removed" ? change.content : change.oldContent;
  const newContent = change.kind === "removed" ? null : change.kind === "added" ? change.content : change.newContent;
  const oldId = oldContent === null ? NULL_BLOB_ID : await gitBlobId(oldContent);
  const newId = newContent === null ? NULL_BLOB_ID : await gitBlobId(newContent);
  if (change.kind === "added") {
    out.push(`new file mode ${change.mode}`);
    out.push(`index ${oldId}..${newId}`);
  } else if (change.kind === "removed") {
    out.push(`deleted file mode ${change.mode}`);
    out.push(`index ${oldId}..${newId}`);
  } else if (change.oldMode !== change.newMode) {
    out.push(`old mode ${change.oldMode}`);
    out.push(`new mode ${change.newMode}`);
    out.push(`index ${oldId}..${newId}`);
  } else {
    out.push(`index ${oldId}..${newId} ${change.newMode}`);
  }
  const oldText = oldContent === null ? "" : textOf(oldContent);
  const newText = newContent === null ? "" : textOf(newContent);
  const oldLabel = oldContent === null ? "/dev/null" : oldName;
  const newLabel = newContent === null ? "/dev/null" : newName;
  if (oldText === null || newText === null) {
    if (options.binaryPatch) {
      const empty = new Uint8Array();
      // The forward hunk gives the new content, the reverse one the old (what `git apply -R` reads).
      const lines = ["GIT binary patch", ...binaryLiteral(newContent ?? empty), ...binaryLiteral(oldContent ?? empty)];
      for (const line of lines) if (!out.push(line)) break;
    } else {
      out.push(`Binary files ${oldLabel} and ${newLabel} differ`);
    }
    return { text: sectionText(out), bytes: out.bytes, binary: true, truncated: out.truncated };
  }
  const hunks = textHunks(oldText, newText, options.lineDiff);
  // An empty file created or deleted has no hunk, and then git writes no ---/+++ lines either.
  if (hunks.length > 0) {
    out.push(`--- ${oldLabel}`);
    out.push(`+++ ${newLabel}`);
  }
  for (const hunk of hunks) {
    if (out.truncated) break;
    out.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) if (!out.push(line)) break;
  }
  return { text: sectionText(out), bytes: out.bytes, binary: false, truncated: out.truncated };
}

function sectionText(out: BoundedLines): string {
  return out.lines.length === 0 ? "" : `${out.lines.join("\n")}\n`;
}
