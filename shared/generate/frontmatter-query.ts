import { Algebra } from "sparqlalgebrajs";
import { isMap, isScalar, parseDocument, Scalar } from "yaml";
import { SparqlNotSupportedError, SparqlSyntaxError } from "../rdf/sparql/errors";
import { parseQuery } from "../rdf/sparql/parse/parse";
import type { Frontmatter } from "../template/frontmatter";
import { FrontmatterError } from "../template/frontmatter";

/**
 * A template's frontmatter query is parsed when the template is stored, so a syntax error is
 * reported at upload, at its line and column in the template FILE (the query's own position
 * shifted by where its YAML value starts), not at generation time inside the query string.
 * Parsing is bounded like every SPARQL parse (nesting checks before the parser runs).
 */
export function checkFrontmatterQuery(source: string, frontmatter: Frontmatter): void {
  const query = frontmatter.query;
  if (typeof query !== "string") return;
  let operation: Algebra.Operation;
  try {
    operation = parseQuery(query);
  } catch (error) {
    if (error instanceof SparqlSyntaxError) {
      const field = queryField(source);
      const at = field ? fileLocation(field, query, error.line ?? 1, error.column ?? 1) : undefined;
      throw new FrontmatterError([
        {
          field: field?.key ?? "sparql",
          message: `${field?.key ?? "sparql"} is not valid SPARQL: ${lastLine(error.message)}`,
          ...at,
        },
      ]);
    }
    if (error instanceof SparqlNotSupportedError) {
      const field = queryField(source);
      throw new FrontmatterError([
        { field: field?.key ?? "sparql", message: `${field?.key ?? "sparql"}: ${error.message}`, ...field?.start },
      ]);
    }
    throw error;
  }
  if (!isSelect(operation)) {
    const field = queryField(source);
    throw new FrontmatterError([
      {
        field: field?.key ?? "sparql",
        message: `${field?.key ?? "sparql"} must be a SELECT query: its rows are what the template renders`,
        ...field?.start,
      },
    ]);
  }
}

const NOT_SELECT = new Set<string>([Algebra.types.ASK, Algebra.types.CONSTRUCT, Algebra.types.DESCRIBE]);

/** ASK, CONSTRUCT and DESCRIBE sit at the top of the algebra, under solution modifiers and FROM at most. */
function isSelect(operation: Algebra.Operation): boolean {
  for (let current: Algebra.Operation | undefined = operation; current; ) {
    if (NOT_SELECT.has(current.type)) return false;
    current = (current as { input?: Algebra.Operation }).input;
  }
  return true;
}

/** The parser's last line says what it expected; the lines before quote the query around the error. */
function lastLine(message: string): string {
  return message.trimEnd().split("\n").at(-1) ?? message;
}

interface Position {
  line: number;
  column: number;
}

interface QueryField {
  key: "sparql" | "query";
  /** How the YAML scalar holding the query is written (plain, quoted, block). */
  type: Scalar["type"];
  /** The template text (normalized) and the scalar's offsets in it, end exclusive. */
  text: string;
  startOffset: number;
  endOffset: number;
  start: Position;
}

/** The template as the frontmatter parser reads it: no BOM, LF line breaks (lines and columns unchanged). */
function normalized(source: string): string {
  return source.replace(/^\uFEFF/, "").replace(/\r\n/g, "\n");
}

function positionOf(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** Where the `sparql:`/`query:` value sits in the template file. */
function queryField(source: string): QueryField | undefined {
  const text = normalized(source);
  const yamlStart = text.indexOf("\n") + 1;
  const close = /\n---[ \t]*(?:\n|$)/.exec(text.slice(yamlStart - 1));
  if (yamlStart === 0 || !close) return undefined;
  const yamlText = text.slice(yamlStart, yamlStart - 1 + close.index + 1);
  const document = parseDocument(yamlText, { keepSourceTokens: false, logLevel: "silent" });
  if (!isMap(document.contents)) return undefined;
  for (const pair of document.contents.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    if ((key !== "sparql" && key !== "query") || !isScalar(pair.value) || !pair.value.range) continue;
    const [start, end] = pair.value.range;
    const startOffset = start + yamlStart;
    return {
      key,
      type: pair.value.type,
      text,
      startOffset,
      endOffset: end + yamlStart,
      start: positionOf(text, startOffset),
    };
  }
  return undefined;
}

const DOUBLE_QUOTED_ESCAPES: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  "\t": "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
  N: "\x85",
  _: "\xa0",
  L: "\u2028",
  P: "\u2029",
};
const HEX_ESCAPE_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

/**
 * The query's characters and, for each, its offset in the file: the scalar's text decoded the way
 * YAML does (quotes, escapes, folded line breaks, block indentation). Undefined when the decoding
 * does not give back the query (a scalar form this mapping does not follow).
 */
function characterOffsets(field: QueryField, query: string): number[] | undefined {
  const { type, text, startOffset: start, endOffset: end } = field;
  const raw = text.slice(start, end);
  const decoded: string[] = [];
  const offsets: number[] = [];
  const push = (value: string, offset: number) => {
    // UTF-16 units, as SPARQL columns and file columns count them.
    for (let unit = 0; unit < value.length; unit++) {
      decoded.push(value[unit] as string);
      offsets.push(offset);
    }
  };
  if (type === Scalar.BLOCK_LITERAL) {
    const lines = raw.split("\n");
    let offset = start + (lines[0]?.length ?? 0) + 1;
    const content = lines.slice(1);
    const indent = /^ */.exec(content.find((line) => line.trim() !== "") ?? "")?.[0].length ?? 0;
    for (const line of content) {
      for (let i = indent; i < line.length; i++) push(line[i] as string, offset + i);
      push("\n", offset + line.length);
      offset += line.length + 1;
    }
  } else if (type === Scalar.PLAIN || type === Scalar.QUOTE_DOUBLE || type === Scalar.QUOTE_SINGLE) {
    const quoted = type !== Scalar.PLAIN;
    const last = quoted ? raw.length - 1 : raw.length;
    let i = quoted ? 1 : 0;
    while (i < last) {
      const char = raw[i] as string;
      const fold = /^[ \t]*\n[ \t\n]*/.exec(raw.slice(i, last));
      if (fold) {
        const breaks = fold[0].split("\n").length - 1;
        push(breaks === 1 ? " " : "\n".repeat(breaks - 1), start + i);
        i += fold[0].length;
        continue;
      }
      if (type === Scalar.QUOTE_DOUBLE && char === "\\") {
        const next = raw[i + 1] ?? "";
        const hexLength = HEX_ESCAPE_LENGTH[next];
        if (hexLength !== undefined) {
          push(String.fromCodePoint(Number.parseInt(raw.slice(i + 2, i + 2 + hexLength), 16)), start + i);
          i += 2 + hexLength;
          continue;
        }
        const escaped = DOUBLE_QUOTED_ESCAPES[next];
        if (escaped === undefined) return undefined;
        push(escaped, start + i);
        i += 2;
        continue;
      }
      if (type === Scalar.QUOTE_SINGLE && char === "'" && raw[i + 1] === "'") {
        push("'", start + i);
        i += 2;
        continue;
      }
      push(char, start + i);
      i += 1;
    }
  } else {
    return undefined;
  }
  const trim = (value: string) => value.replace(/\n+$/, "");
  return trim(decoded.join("")) === trim(query) ? offsets : undefined;
}

/** The file position of (line, column) inside the query; the value's start when it cannot be followed. */
function fileLocation(field: QueryField, query: string, line: number, column: number): Position {
  const offsets = characterOffsets(field, query);
  if (!offsets || offsets.length === 0) return field.start;
  let index = 0;
  for (let current = 1; current < line; current++) {
    const next = query.indexOf("\n", index);
    if (next < 0) break;
    index = next + 1;
  }
  index = Math.min(index + column - 1, offsets.length - 1);
  return positionOf(field.text, offsets[index] as number);
}
