import { KgenFilterError } from "./errors";

function asText(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

/**
 * Indents every non-empty line by `width` spaces (or by the string given); blank lines stay
 * empty so no trailing whitespace appears. Unlike nunjucks' built-in `indent`, the first line is
 * indented too unless `first` is false, and the default width is 2.
 */
export function indent(value: unknown, width: unknown = 2, first: unknown = true): string {
  let unit: string;
  if (typeof width === "string") unit = width;
  else if (typeof width === "number" && Number.isInteger(width) && width >= 0 && width <= 1000)
    unit = " ".repeat(width);
  else throw new KgenFilterError("indent", "width must be an integer from 0 to 1000 or a string");
  return asText(value)
    .split("\n")
    .map((line, index) => (line === "" || (index === 0 && !first) ? line : unit + line))
    .join("\n");
}

const SINGLE_QUOTE_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "'": "\\'",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * A quoted string literal: `"…"` with JSON escapes by default (valid in JSON, JavaScript,
 * TypeScript and most C-like languages), or `'…'` with backslash escapes when `style` is `'`.
 */
export function quote(value: unknown, style: unknown = '"'): string {
  const text = asText(value);
  if (style === '"') return JSON.stringify(text);
  if (style !== "'") throw new KgenFilterError("quote", `style must be '"' or "'", got ${String(style)}`);
  let quoted = "'";
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    const escaped = SINGLE_QUOTE_ESCAPES[char];
    if (escaped !== undefined) quoted += escaped;
    else if (code < 0x20 || code === 0x7f) quoted += `\\u${code.toString(16).padStart(4, "0")}`;
    else quoted += char;
  }
  return `${quoted}'`;
}

/**
 * A URL/file-name slug: Unicode NFKD with combining marks removed, lower case, every run of
 * other characters than letters and digits replaced by `separator` (default `-`), trimmed.
 */
export function slug(value: unknown, separator: unknown = "-"): string {
  if (typeof separator !== "string") throw new KgenFilterError("slug", "separator must be a string");
  const words = asText(value)
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== "");
  return words.join(separator);
}
