import { WriteModeError } from "./frontmatter-error";
import { type Frontmatter, type WriteMode, writeModeOf } from "./parse-frontmatter";

/** Whether `block` occurs in `text` as whole lines (starting at a line start, ending at a line end). */
function containsLines(text: string, block: string): boolean {
  let from = 0;
  while (true) {
    const index = text.indexOf(block, from);
    if (index === -1) return false;
    const end = index + block.length;
    const startsLine = index === 0 || text[index - 1] === "\n";
    const endsLine = end === text.length || text[end] === "\n" || text.startsWith("\r\n", end);
    if (startsLine && endsLine) return true;
    from = index + 1;
  }
}

/** Offsets of the start of each line of `text` (a final line break does not start a new line). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1 && i + 1 < text.length; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return text === "" ? [] : starts;
}

function insertAt(text: string, offset: number, block: string): string {
  if (offset >= text.length) return text === "" || text.endsWith("\n") ? `${text}${block}\n` : `${text}\n${block}\n`;
  return `${text.slice(0, offset)}${block}\n${text.slice(offset)}`;
}

/**
 * The new content of a file after writing `rendered` with the frontmatter's write mode into a
 * file that currently holds `existing` ("" or null/undefined when it does not exist).
 *
 * - no mode: `rendered` replaces the file.
 * - `inject` + `before`/`after`: the rendered block is inserted as whole lines before or after
 *   the first line that contains the marker (a literal substring, not a regular expression).
 *   No such line → `WriteModeError` naming the field.
 * - `append` / `prepend`: at the end (after a line break if the file lacks one) / at the start.
 * - `lineAt: N`: inserted so the block starts at line N; N may be one past the last line
 *   (append); beyond that → `WriteModeError`.
 *
 * Idempotence: the modes that add to a file do nothing when the rendered block (without its
 * final line break) already occurs in the file as whole lines, so regenerating is a fixed point.
 * An empty block also leaves the file unchanged.
 */
export function applyWriteMode(
  existing: string | null | undefined,
  rendered: string,
  frontmatter: Frontmatter,
): string {
  const mode: WriteMode = writeModeOf(frontmatter);
  if (mode.mode === "write") return rendered;
  const current = existing ?? "";
  const block = rendered.endsWith("\r\n")
    ? rendered.slice(0, -2)
    : rendered.endsWith("\n")
      ? rendered.slice(0, -1)
      : rendered;
  if (block === "" || containsLines(current, block)) return current;

  switch (mode.mode) {
    case "append":
      if (current === "") return rendered;
      return current.endsWith("\n") ? current + rendered : `${current}\n${rendered}`;
    case "prepend":
      if (current === "") return rendered;
      return rendered.endsWith("\n") ? rendered + current : `${rendered}\n${current}`;
    case "lineAt": {
      const starts = lineStarts(current);
      if (mode.lineAt > starts.length + 1) {
        throw new WriteModeError(
          "lineAt",
          `lineAt ${mode.lineAt} is past the end of the file, which has ${starts.length} line(s)`,
        );
      }
      return insertAt(current, starts[mode.lineAt - 1] ?? current.length, block);
    }
    case "inject": {
      const starts = lineStarts(current);
      for (let i = 0; i < starts.length; i++) {
        const start = starts[i] as number;
        const next = starts[i + 1] ?? current.length;
        if (!current.slice(start, next).includes(mode.inject.marker)) continue;
        return insertAt(current, mode.inject.position === "before" ? start : next, block);
      }
      throw new WriteModeError(
        mode.inject.position,
        `inject ${mode.inject.position}: no line contains the marker "${mode.inject.marker}"`,
      );
    }
  }
}
