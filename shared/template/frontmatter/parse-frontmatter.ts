import nunjucksParser from "nunjucks/src/parser";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { NestingTooDeepError } from "../../core/budget-errors";
import { jsonHeight, MAX_JSON_DEPTH } from "../../core/json-nesting";
import { FrontmatterError, type FrontmatterIssue } from "./frontmatter-error";
import { parseSkipIf } from "./skip-if";

/** Validated frontmatter. Unknown keys (free metadata: name, description, tags, …) pass through unchanged. */
export interface Frontmatter {
  /** Output path, itself a template (`src/{{ name | pascalCase }}.ts`). */
  to?: string;
  inject?: boolean;
  before?: string;
  after?: string;
  append?: boolean;
  prepend?: boolean;
  lineAt?: number;
  skipIf?: string;
  /** File mode, already converted from its octal text (`"755"` → 0o755 = 493). */
  chmod?: number;
  /** The SPARQL query of `sparql:` or `query:` (aliases). */
  query?: string;
  /** Name (or dotted path) of the context variable to render once per item of. */
  foreach?: string;
  [metadata: string]: unknown;
}

export interface ParsedTemplate {
  frontmatter: Frontmatter;
  body: string;
  /** 1-based line of the source on which the body starts. */
  bodyLine: number;
}

/**
 * How a unit's content reaches its file. The same words name an artifact's `mode` from the plan
 * to the HTTP view: `write` replaces the file, the others patch it.
 */
export type WriteMode =
  | { mode: "write" }
  | { mode: "inject"; inject: { position: "before" | "after"; marker: string } }
  | { mode: "append" }
  | { mode: "prepend" }
  | { mode: "lineAt"; lineAt: number };

export type WriteModeName = WriteMode["mode"];

const IDENTIFIER_PATH = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/;
const OCTAL_MODE = /^0?[0-7]{3}$|^0o[0-7]{1,3}$/;
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);
const FLAG_FIELDS = ["inject", "append", "prepend"] as const;
/** How many times frontmatter YAML may expand aliases (`*name`): stops "billion laughs" documents. */
export const MAX_FRONTMATTER_ALIASES = 100;
// The yaml parser reports running out of stack as a document error; only nesting gets it that far.
const STACK_EXHAUSTED = /Maximum call stack size exceeded|Stack overflow/;

const nonEmptyString = (field: string) =>
  z.string({ error: `${field} must be a string` }).min(1, { error: `${field} must not be empty` });
const flag = (field: string) => z.boolean({ error: `${field} must be true or false` });

const FIELD_SCHEMAS: Record<string, z.ZodType> = {
  to: z
    .string({ error: 'to must be a string (quote a path that starts with "{{": to: "{{ name }}.ts")' })
    .min(1, { error: "to must not be empty" })
    .nullish(),
  inject: flag("inject").nullish(),
  before: nonEmptyString("before").nullish(),
  after: nonEmptyString("after").nullish(),
  append: flag("append").nullish(),
  prepend: flag("prepend").nullish(),
  lineAt: z
    .number({ error: "lineAt must be a line number (an integer ≥ 1)" })
    .int({ error: "lineAt must be an integer ≥ 1" })
    .min(1, { error: "lineAt must be ≥ 1 (lines are numbered from 1)" })
    .nullish(),
  skipIf: nonEmptyString("skipIf").nullish(),
  chmod: z.union([z.string(), z.number()], { error: 'chmod must be an octal mode such as "755" or "0644"' }).nullish(),
  sparql: nonEmptyString("sparql").nullish(),
  query: nonEmptyString("query").nullish(),
  foreach: nonEmptyString("foreach")
    .regex(IDENTIFIER_PATH, { error: "foreach must be a variable name or dotted path (items, model.classes)" })
    .refine((path) => !path.split(".").some((segment) => FORBIDDEN_SEGMENTS.has(segment)), {
      error: "foreach may not read __proto__, constructor or prototype",
    })
    .nullish(),
  sh: z.never({ error: "sh (shell commands) is not supported on the platform" }),
};

/** Splits `---` YAML frontmatter from a template's body and validates it; templates without one get `{}`. */
export function parseFrontmatter(source: string): ParsedTemplate {
  const text = source.startsWith("\uFEFF") ? source.slice(1) : source;
  const firstBreak = text.indexOf("\n");
  const firstLine = (firstBreak === -1 ? text : text.slice(0, firstBreak)).trimEnd();
  if (firstLine !== "---") return { frontmatter: {}, body: text, bodyLine: 1 };
  if (firstBreak === -1) {
    throw new FrontmatterError([{ field: null, message: "frontmatter is not closed by a --- line", line: 1 }]);
  }

  let offset = firstBreak + 1;
  let lineNumber = 2;
  let closing: { start: number; end: number } | undefined;
  while (offset <= text.length) {
    const lineBreak = text.indexOf("\n", offset);
    const lineEnd = lineBreak === -1 ? text.length : lineBreak;
    if (text.slice(offset, lineEnd).trimEnd() === "---") {
      closing = { start: offset, end: lineBreak === -1 ? text.length : lineBreak + 1 };
      break;
    }
    if (lineBreak === -1) break;
    offset = lineBreak + 1;
    lineNumber++;
  }
  if (closing === undefined) {
    throw new FrontmatterError([{ field: null, message: "frontmatter is not closed by a --- line", line: 1 }]);
  }
  const yamlText = text.slice(firstBreak + 1, closing.start);
  const frontmatter = validateFrontmatterYaml(yamlText, 2);
  return { frontmatter, body: text.slice(closing.end), bodyLine: lineNumber + 1 };
}

/** Parses and validates frontmatter YAML whose first line is line `firstLine` of the template. */
export function validateFrontmatterYaml(yamlText: string, firstLine = 1): Frontmatter {
  const lineCounter = new LineCounter();
  const document = parseDocument(yamlText, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: "error" });
  if (document.errors.some((error) => STACK_EXHAUSTED.test(error.message)))
    throw new NestingTooDeepError("frontmatter YAML", MAX_JSON_DEPTH);
  if (document.errors.length > 0) {
    throw new FrontmatterError(
      document.errors.map((error) => {
        const position = lineCounter.linePos(error.pos[0]);
        // Name the top-level field the error falls in (an error at the very start of a line
        // belongs to the field before it): `to: {{ name }}.ts` is the usual culprit.
        const lines = yamlText.split("\n");
        let key: RegExpExecArray | null = null;
        for (let index = position.col <= 1 ? position.line - 2 : position.line - 1; index >= 0 && !key; index--) {
          key = /^([A-Za-z_$][\w$-]*)\s*:(\s*)(.?)/.exec(lines[index] ?? "");
        }
        const hint = key?.[3] === "{" ? ` (quote the value of "${key[1]}")` : "";
        const field = key ? (key[1] as string) : null;
        const reason = error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "");
        return {
          field,
          message: `frontmatter YAML${field ? ` in field "${field}"` : ""}: ${reason}${hint}`,
          line: position.line + firstLine - 1,
          column: position.col,
        };
      }),
    );
  }
  if (document.contents === null) return {};
  if (!isMap(document.contents)) {
    throw new FrontmatterError([
      { field: null, message: "frontmatter must be a YAML mapping of fields", line: firstLine },
    ]);
  }
  const positions = new Map<string, { line: number; column: number }>();
  const octalSources = new Map<string, string>();
  for (const item of document.contents.items) {
    if (!isScalar(item.key)) continue;
    const key = String(item.key.value);
    const start = item.key.range?.[0];
    if (start !== undefined) {
      const { line, col } = lineCounter.linePos(start);
      positions.set(key, { line: line + firstLine - 1, column: col });
    }
    if (isScalar(item.value) && typeof item.value.value === "number" && item.value.source !== undefined) {
      octalSources.set(key, item.value.source);
    }
  }
  const at = (field: string) => positions.get(field) ?? {};

  let raw: Record<string, unknown>;
  try {
    raw = document.toJS({ maxAliasCount: MAX_FRONTMATTER_ALIASES }) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof RangeError) throw new NestingTooDeepError("frontmatter YAML", MAX_JSON_DEPTH);
    const reason =
      error instanceof ReferenceError && /alias count/.test(error.message)
        ? `aliases expand to too many values (at most ${MAX_FRONTMATTER_ALIASES} alias expansions)`
        : (error as Error).message;
    throw new FrontmatterError([{ field: null, message: `frontmatter YAML: ${reason}`, line: firstLine }]);
  }
  const height = jsonHeight(raw, MAX_JSON_DEPTH);
  if (height === Number.POSITIVE_INFINITY) {
    throw new FrontmatterError([
      {
        field: null,
        message: "frontmatter YAML: an alias refers to a value that contains it (a cycle)",
        line: firstLine,
      },
    ]);
  }
  if (height > MAX_JSON_DEPTH) throw new NestingTooDeepError("frontmatter YAML", MAX_JSON_DEPTH);

  const issues: FrontmatterIssue[] = [];
  const fail = (fields: string[], message: string) => {
    const field = fields[fields.length - 1] as string;
    issues.push({ field, fields, message, ...at(field) });
  };
  const frontmatter: Frontmatter = {};
  const checked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const fieldSchema = Object.hasOwn(FIELD_SCHEMAS, key) ? FIELD_SCHEMAS[key] : undefined;
    if (fieldSchema === undefined) {
      // defineProperty: a "__proto__" key must stay plain metadata, not replace the prototype.
      if (value !== null && value !== undefined) {
        Object.defineProperty(frontmatter, key, { value, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const result = fieldSchema.safeParse(value);
    if (!result.success) {
      for (const issue of result.error.issues) fail([key], `frontmatter field "${key}": ${issue.message}`);
    } else if (result.data !== null && result.data !== undefined) {
      checked[key] = result.data;
    }
  }
  const { sparql, chmod: chmodValue, ...known } = checked;
  Object.assign(frontmatter, known);

  if (frontmatter.to !== undefined) {
    try {
      nunjucksParser.parse(frontmatter.to);
    } catch (error) {
      fail(["to"], `frontmatter field "to" is not a valid template: ${lastLine((error as Error).message)}`);
    }
  }
  if (typeof sparql === "string") {
    if (frontmatter.query !== undefined)
      fail(["sparql", "query"], 'frontmatter fields "sparql" and "query" are aliases: give one');
    frontmatter.query = sparql;
  }
  if (frontmatter.skipIf !== undefined) {
    try {
      parseSkipIf(frontmatter.skipIf);
    } catch (error) {
      fail(["skipIf"], `frontmatter field "skipIf": ${(error as Error).message}`);
    }
  }
  if (chmodValue !== undefined) {
    const chmodText =
      typeof chmodValue === "number" ? (octalSources.get("chmod") ?? String(chmodValue)) : String(chmodValue);
    const mode = parseChmod(chmodText);
    if (mode === undefined) {
      fail(["chmod"], `frontmatter field "chmod": "${chmodText}" is not an octal mode ≤ 777 such as "755" or "0644"`);
    } else {
      frontmatter.chmod = mode;
    }
  }

  const modes: string[] = FLAG_FIELDS.filter((field) => frontmatter[field] === true);
  if (frontmatter.lineAt !== undefined) modes.push("lineAt");
  if (modes.length > 1) {
    fail(
      modes,
      `frontmatter fields ${modes.map((m) => `"${m}"`).join(" and ")} are conflicting write modes: use at most one`,
    );
  }
  for (const markerField of ["before", "after"] as const) {
    if (frontmatter[markerField] !== undefined && frontmatter.inject !== true) {
      fail([markerField], `frontmatter field "${markerField}" needs "inject: true"`);
    }
  }
  if (frontmatter.before !== undefined && frontmatter.after !== undefined) {
    fail(["before", "after"], 'frontmatter fields "before" and "after" conflict: inject at one marker');
  }
  if (frontmatter.inject === true && frontmatter.before === undefined && frontmatter.after === undefined) {
    fail(["inject"], 'frontmatter field "inject" needs a "before" or "after" marker line');
  }
  if (issues.length > 0) throw new FrontmatterError(issues);
  return frontmatter;
}

function lastLine(message: string): string {
  const lines = message.trim().split("\n");
  return (lines[lines.length - 1] ?? message).trim();
}

/** `"755"`, `"0644"`, `"0o755"` → the mode number; anything else (non-octal digits, > 0o777) → undefined. */
export function parseChmod(text: string): number | undefined {
  const trimmed = text.trim();
  if (!OCTAL_MODE.test(trimmed)) return undefined;
  return Number.parseInt(trimmed.replace(/^0o/, ""), 8);
}

/** The single write mode a validated frontmatter selects (no mode: `write`). */
export function writeModeOf(frontmatter: Frontmatter): WriteMode {
  if (frontmatter.inject === true) {
    if (frontmatter.before !== undefined)
      return { mode: "inject", inject: { position: "before", marker: frontmatter.before } };
    if (frontmatter.after !== undefined)
      return { mode: "inject", inject: { position: "after", marker: frontmatter.after } };
  }
  if (frontmatter.append === true) return { mode: "append" };
  if (frontmatter.prepend === true) return { mode: "prepend" };
  if (frontmatter.lineAt !== undefined) return { mode: "lineAt", lineAt: frontmatter.lineAt };
  return { mode: "write" };
}
