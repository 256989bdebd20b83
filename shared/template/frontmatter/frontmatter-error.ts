export interface FrontmatterIssue {
  /** The frontmatter field at fault, or null for a problem with the block as a whole. */
  field: string | null;
  /** Every field involved (two for a conflict); `[field]` otherwise. */
  fields?: readonly string[];
  message: string;
  /** 1-based line and column in the template source, where known. */
  line?: number;
  column?: number;
}

/**
 * Frontmatter that cannot be used: YAML syntax, a malformed field or a conflict between fields.
 * `message`, `field` and `fields` name the fields at fault; `issues` lists every problem found.
 */
export class FrontmatterError extends Error {
  readonly field: string | null;
  readonly fields: readonly string[];
  readonly line?: number;
  readonly column?: number;
  readonly issues: readonly FrontmatterIssue[];

  constructor(issues: readonly FrontmatterIssue[]) {
    const first = issues[0] ?? { field: null, message: "invalid frontmatter" };
    const where =
      first.line === undefined ? "" : ` (line ${first.line}${first.column ? `, column ${first.column}` : ""})`;
    const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : "";
    super(`${first.message}${where}${more}`);
    this.name = "FrontmatterError";
    this.field = first.field;
    this.fields = first.fields ?? (first.field === null ? [] : [first.field]);
    this.line = first.line;
    this.column = first.column;
    this.issues = issues;
  }
}

/** A write mode that cannot be applied to the existing file (marker missing, line out of range). */
export class WriteModeError extends Error {
  readonly field: "before" | "after" | "lineAt";

  constructor(field: "before" | "after" | "lineAt", message: string) {
    super(message);
    this.name = "WriteModeError";
    this.field = field;
  }
}
