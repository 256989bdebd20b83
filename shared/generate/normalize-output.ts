/**
 * Output normalization applied to every rendered artifact before it is hashed and stored:
 * - line endings become LF (`\r\n` and lone `\r` both turn into `\n`);
 * - spaces and tabs at the end of every line are removed (other whitespace, such as
 *   U+00A0 or form feeds, is content and is kept);
 * - a final newline IS enforced: non-empty output that does not end in `\n` gets one. Empty
 *   output stays empty, and trailing blank lines are kept (they may be intended).
 * Patch fragments (inject/append/prepend/lineAt) are normalized the same way, so a fragment
 * always ends in a newline and splices as whole lines.
 */
export interface NormalizeOutputOptions {
  /** Append `\n` to non-empty output lacking one. Default true. */
  finalNewline?: boolean;
}

export function normalizeOutput(text: string, options: NormalizeOutputOptions = {}): string {
  const finalNewline = options.finalNewline ?? true;
  // Line by line rather than /[ \t]+$/gm, which backtracks quadratically on long inner runs of spaces.
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) lines[i] = trimLineEnd(lines[i] as string);
  let normalized = lines.join("\n");
  if (finalNewline && normalized.length > 0 && !normalized.endsWith("\n")) normalized += "\n";
  return normalized;
}

function trimLineEnd(line: string): string {
  let end = line.length;
  while (end > 0) {
    const code = line.charCodeAt(end - 1);
    if (code !== 0x20 && code !== 0x09) break;
    end--;
  }
  return end === line.length ? line : line.slice(0, end);
}

/** UTF-8 bytes of the normalized output. */
export function normalizeOutputBytes(text: string, options?: NormalizeOutputOptions): Uint8Array {
  return new TextEncoder().encode(normalizeOutput(text, options));
}
