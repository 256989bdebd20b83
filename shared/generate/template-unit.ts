import { canonicalJson } from "../core/canonical-json";
import { sha256Hex } from "../core/sha256";
import type { Frontmatter, ParsedTemplate, WriteMode, WriteModeName } from "../template/frontmatter/parse-frontmatter";
import { writeModeOf } from "../template/frontmatter/parse-frontmatter";
import { normalizeOutputPath, type OutputPathLimits } from "../template/output-path";
import type { RecordedDependency } from "./attestation";
import { normalizeOutput } from "./normalize-output";
import type { TemplateRow } from "./row-values";

/**
 * The template-unit pipeline: one template + params (+ graph access through runQuery) → the units
 * it writes. A job's plan, its queue batches and `POST /v1/render` all run it, so a preview is
 * byte for byte what a job writes. It knows nothing about nunjucks, YAML or SPARQL engines; those
 * come in through PlanDependencies.
 *
 * Per template:
 * 1. parseFrontmatter(source) → frontmatter + body.
 * 2. No `to:` → skipped (`no-to`; partials and macro libraries have none).
 * 3. `query:` (or its alias `sparql:`) → runQuery once; its rows are `rows` in the context and a
 *    dependency.
 * 4. `foreach: name` → one unit per row, the row bound as `name` (a query is required);
 *    otherwise one unit.
 * 5. Per unit: skipIf (evaluateSkipIf on the unit's context) → skipped (`skip-if`); render `to:`,
 *    trim it; empty → skipped (`empty-to`, Hygen's way to opt out); validate the path; render the
 *    body; normalize the output (LF, no trailing blanks, final newline).
 * 6. The write mode (inject+before/after, append, prepend, lineAt) makes a patch unit;
 *    otherwise mode `write`.
 * Every query the render issues through `helpers.query` (sparql(), label() …) is run once per
 * pipeline (cached by text) and recorded as a dependency of the units that read it.
 */

/** One SELECT result row as templates see it (see row-values.ts). */
export type QueryRow = TemplateRow;
export type QueryRows = QueryRow[];
export type MaybePromise<T> = T | Promise<T>;

export interface PlanTemplate {
  /** Template path inside the generator (normalized like an output path). */
  path: string;
  /** sha256 hex of the template source bytes. */
  hash: string;
  source: string;
}

export interface RenderHelpers {
  /** Runs a SPARQL query over the pinned graph version and records it as a dependency. */
  query(sparql: string): MaybePromise<QueryRows>;
  templatePath: string;
  /** What is being rendered: the `to:` path or the body. */
  purpose: "to" | "body";
  /** 1-based source line of the rendered text's first line. */
  firstLine: number;
}

export interface PlanDependencies {
  parseFrontmatter(source: string): MaybePromise<ParsedTemplate>;
  render(source: string, context: Record<string, unknown>, helpers: RenderHelpers): MaybePromise<string>;
  /** SELECT over the pinned graph version. Must be a pure function of the query text. */
  runQuery(sparql: string): MaybePromise<QueryRows>;
  /** `var`, `!var`, `var==value`, `var!=value` against the unit's context; true = skip. */
  evaluateSkipIf(expression: string, context: Record<string, unknown>): boolean;
}

export interface PlanOptions {
  /** Job params: spread at the top of the context and also available as `params`. */
  params?: Record<string, unknown>;
  /** Deterministic facts exposed to templates as `kgen` (build time, graph, …). */
  kgen?: Record<string, unknown>;
  /** Refuse plans with more artifacts than this (runaway fan-out guard). */
  maxArtifacts?: number;
  pathLimits?: OutputPathLimits;
}

export interface PlannedArtifact {
  path: string;
  mode: WriteModeName;
  /** For `inject`: where the block goes relative to the first line containing `marker`. */
  inject?: { position: "before" | "after"; marker: string };
  /** For `lineAt`: the 1-based line the block starts at. */
  lineAt?: number;
  /** Permission bits as four octal digits (`"0755"`), the form the artifact keeps up to the HTTP view. */
  chmod?: string;
  /** Normalized output text. */
  content: string;
  bytes: Uint8Array;
  sha256: string;
  size: number;
  template: { path: string; hash: string };
  /** Row index of the foreach fan-out, null for single-unit templates. */
  rowIndex: number | null;
  /** sha256 of the canonical JSON of the render context without `rows` (a dependency already). */
  contextSha256: string;
  dependencies: RecordedDependency[];
}

/** Where one unit is written, found without rendering its body (see TemplateUnitPipeline.unitPath). */
export interface UnitPath {
  template: string;
  rowIndex: number | null;
  path: string;
  mode: WriteModeName;
}

/** A unit past skipIf and `to:`, with what rendering its body needs. */
interface LocatedUnit {
  templatePath: string;
  rowIndex: number | null;
  context: Record<string, unknown>;
  path: string;
  reads: Set<string>;
  render(source: string, purpose: "to" | "body", firstLine: number): Promise<string>;
}

export type SkipReason = "no-to" | "skip-if" | "empty-to";

export interface SkippedUnit {
  template: string;
  rowIndex: number | null;
  reason: SkipReason;
}

export type PlanErrorCode =
  | "frontmatter"
  | "query"
  | "foreach-without-query"
  | "invalid-foreach"
  | "skip-if"
  | "render"
  | "output-path"
  | "duplicate-output"
  | "path-conflict"
  | "too-many-artifacts";

export class PlanError extends Error {
  readonly code: PlanErrorCode;
  readonly template: string | null;
  readonly rowIndex: number | null;

  constructor(
    code: PlanErrorCode,
    message: string,
    where: { template?: string; rowIndex?: number | null; cause?: unknown } = {},
  ) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.name = "PlanError";
    this.code = code;
    this.template = where.template ?? null;
    this.rowIndex = where.rowIndex ?? null;
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const RESERVED_BINDINGS = new Set(["__proto__", "constructor", "prototype", "params", "rows", "kgen"]);

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Defines an own enumerable property even for keys such as `__proto__` (a SPARQL variable or a
 * param may be called that), where plain assignment would replace the object's prototype.
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Plain objects rebuilt with sorted keys at every depth, so `{% for k, v in obj %}` is ordered. */
export function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => sortKeysDeep(item)) as T;
  if (value !== null && typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      setOwn(out, key, sortKeysDeep((value as Record<string, unknown>)[key]));
    return out as T;
  }
  return value;
}

/** Freezes plain objects and arrays at every depth (rows and params are shared between renders). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * The one place query rows (the frontmatter query's `rows` and foreach bindings, and `sparql()`)
 * become the values templates see: keys sorted, deeply frozen, shared by every render.
 */
export function templateValuesOfRows(rows: QueryRows): QueryRows {
  return deepFreeze(sortKeysDeep(rows));
}

interface QueryResult {
  rows: QueryRows;
  /** The result as runQuery gave it; its canonical JSON is hashed once, when a dependency first needs it. */
  resolved: QueryRows;
}

/** Runs and caches queries for one plan, and records which ones each render read. */
class QueryRecorder {
  private readonly results = new Map<string, MaybePromise<QueryResult>>();
  private readonly hashes = new Map<string, Promise<string>>();

  constructor(private readonly runQuery: PlanDependencies["runQuery"]) {}

  /**
   * Synchronous when runQuery is, so a synchronous template engine can call it from a global.
   * Rows come back sorted by key and deeply frozen: renders share them and cannot change them.
   */
  run(sparql: string, reads: Set<string>): MaybePromise<QueryRows> {
    reads.add(sparql);
    let cached = this.results.get(sparql);
    if (cached === undefined) {
      const settle = (resolved: QueryRows): QueryResult => {
        // The dependency hash is of the result itself; templates get its values.
        const entry = { rows: templateValuesOfRows(resolved), resolved };
        this.results.set(sparql, entry);
        return entry;
      };
      const pending = this.runQuery(sparql);
      cached = pending instanceof Promise ? pending.then(settle) : settle(pending);
      if (cached instanceof Promise) this.results.set(sparql, cached);
    }
    return cached instanceof Promise ? cached.then((entry) => entry.rows) : cached.rows;
  }

  async dependencies(reads: Set<string>): Promise<RecordedDependency[]> {
    const out: RecordedDependency[] = [];
    for (const sparql of [...reads].sort(compare)) {
      let hash = this.hashes.get(sparql);
      if (hash === undefined) {
        hash = Promise.resolve(this.results.get(sparql) as MaybePromise<QueryResult>).then((entry) =>
          sha256Hex(canonicalJson(entry.resolved)),
        );
        this.hashes.set(sparql, hash);
      }
      out.push({ query: sparql, resultSha256: await hash });
    }
    return out;
  }
}

/** A template after frontmatter and query, ready to render unit by unit (e.g. in queue batches). */
export interface PreparedTemplate {
  template: PlanTemplate;
  frontmatter: Frontmatter;
  body: string;
  bodyLine: number;
  /** Query rows, null without a query. */
  rows: QueryRows | null;
  /** Name each row is bound to, null without foreach. */
  foreach: string | null;
  /** Number of units: rows for foreach, else 1 (0 for templates without `to:`). */
  units: number;
  mode: WriteMode;
}

/** One pipeline per job or preview: shares the query cache between templates and units. */
export class TemplateUnitPipeline {
  private readonly recorder: QueryRecorder;
  private readonly params: Record<string, unknown>;
  private readonly kgen: Record<string, unknown> | undefined;

  constructor(
    private readonly deps: PlanDependencies,
    private readonly options: PlanOptions = {},
  ) {
    this.recorder = new QueryRecorder(deps.runQuery);
    // canonicalJson first: params must be plain JSON (no Dates, NaN, cycles…) to be hashable anyway.
    this.params = deepFreeze(JSON.parse(canonicalJson(options.params ?? {})) as Record<string, unknown>);
    this.kgen = options.kgen === undefined ? undefined : deepFreeze(JSON.parse(canonicalJson(options.kgen)));
  }

  prepare(template: PlanTemplate): Promise<PreparedTemplate> {
    return this.prepareWith(template, (sparql) => this.recorder.run(sparql, new Set()));
  }

  /**
   * The template prepared over some rows of its query result instead of the whole result: its units are
   * those rows. For the output paths of a few rows (impact analysis) where `to:` and skipIf read only the
   * unit's row and params: a render's seed leaves `rows` out, so those paths are the ones the job writes.
   */
  prepareRows(template: PlanTemplate, rows: QueryRows): Promise<PreparedTemplate> {
    return this.prepareWith(template, () => templateValuesOfRows(rows));
  }

  private async prepareWith(
    template: PlanTemplate,
    rowsOf: (sparql: string) => MaybePromise<QueryRows>,
  ): Promise<PreparedTemplate> {
    const templatePath = normalizeOutputPath(template.path);
    let parsed: ParsedTemplate;
    try {
      parsed = await this.deps.parseFrontmatter(template.source);
    } catch (error) {
      throw new PlanError("frontmatter", `${templatePath}: ${messageOf(error)}`, {
        template: templatePath,
        cause: error,
      });
    }
    const frontmatter = parsed.frontmatter;
    const sparql = frontmatter.query;
    let rows: QueryRows | null = null;
    if (typeof sparql === "string" && frontmatter.to !== undefined) {
      try {
        rows = await rowsOf(sparql);
      } catch (error) {
        throw new PlanError("query", `${templatePath}: query failed: ${messageOf(error)}`, {
          template: templatePath,
          cause: error,
        });
      }
    }
    const foreach = frontmatter.foreach ?? null;
    if (foreach !== null) {
      if (!IDENTIFIER.test(foreach) || RESERVED_BINDINGS.has(foreach)) {
        throw new PlanError(
          "invalid-foreach",
          `${templatePath}: foreach must be a variable name other than params, rows, kgen or prototype keys, got ${JSON.stringify(foreach)}`,
          {
            template: templatePath,
          },
        );
      }
      if (typeof sparql !== "string") {
        throw new PlanError("foreach-without-query", `${templatePath}: foreach needs a query (sparql: or query:)`, {
          template: templatePath,
        });
      }
    }
    const units = frontmatter.to === undefined ? 0 : foreach !== null ? (rows?.length ?? 0) : 1;
    return {
      template: { ...template, path: templatePath },
      frontmatter,
      body: parsed.body,
      bodyLine: parsed.bodyLine,
      rows,
      foreach,
      units,
      mode: writeModeOf(frontmatter),
    };
  }

  /**
   * The render context of one unit: params spread at the top and as `params`, `kgen`, `rows`,
   * and the foreach binding (later entries win). Keys are sorted at every depth; nested values
   * are frozen and shared, the top-level object is fresh for each call.
   */
  contextFor(prepared: PreparedTemplate, rowIndex: number | null): Record<string, unknown> {
    const entries = new Map<string, unknown>(Object.entries(this.params));
    entries.set("params", this.params);
    if (this.kgen !== undefined) entries.set("kgen", this.kgen);
    if (prepared.rows !== null) entries.set("rows", prepared.rows);
    if (prepared.foreach !== null && rowIndex !== null) entries.set(prepared.foreach, prepared.rows?.[rowIndex]);
    const sorted: Record<string, unknown> = {};
    for (const key of [...entries.keys()].sort()) setOwn(sorted, key, entries.get(key));
    return sorted;
  }

  /** Renders one unit: an artifact, or the reason it was skipped. */
  async renderUnit(prepared: PreparedTemplate, unit: number): Promise<PlannedArtifact | SkippedUnit> {
    const result = await this.renderUnitWithRawBody(prepared, unit);
    return "reason" in result ? result : result.artifact;
  }

  /**
   * Where one unit goes, without rendering its body: skipIf and `to:` only. Impact analysis plans output
   * paths this way; renderUnit goes on from here, so a path found here is the path the job writes.
   */
  async unitPath(prepared: PreparedTemplate, unit: number): Promise<UnitPath | SkippedUnit> {
    const located = await this.locateUnit(prepared, unit);
    if ("reason" in located) return located;
    return { template: located.templatePath, rowIndex: located.rowIndex, path: located.path, mode: prepared.mode.mode };
  }

  private async locateUnit(prepared: PreparedTemplate, unit: number): Promise<LocatedUnit | SkippedUnit> {
    const templatePath = prepared.template.path;
    const to = prepared.frontmatter.to;
    if (to === undefined) return { template: templatePath, rowIndex: null, reason: "no-to" };
    if (!Number.isInteger(unit) || unit < 0 || unit >= prepared.units) {
      throw new RangeError(`${templatePath} has ${prepared.units} units; there is no unit ${unit}`);
    }
    const rowIndex = prepared.foreach !== null ? unit : null;
    const context = this.contextFor(prepared, rowIndex);
    const where = { template: templatePath, rowIndex };

    if (prepared.frontmatter.skipIf !== undefined) {
      let skip: boolean;
      try {
        skip = this.deps.evaluateSkipIf(prepared.frontmatter.skipIf, context);
      } catch (error) {
        throw new PlanError("skip-if", `${templatePath}: skipIf: ${messageOf(error)}`, { ...where, cause: error });
      }
      if (skip) return { template: templatePath, rowIndex, reason: "skip-if" };
    }

    const reads = new Set<string>();
    const sparql = prepared.frontmatter.query;
    if (typeof sparql === "string") reads.add(sparql);
    const helpers = (purpose: "to" | "body", firstLine: number): RenderHelpers => ({
      query: (text: string) => this.recorder.run(text, reads),
      templatePath,
      purpose,
      firstLine,
    });
    const render = async (source: string, purpose: "to" | "body", firstLine: number) => {
      try {
        // A fresh top-level object per render: a top-level {% set %} cannot leak into the next render.
        return await this.deps.render(source, { ...context }, helpers(purpose, firstLine));
      } catch (error) {
        throw new PlanError(
          "render",
          `${templatePath}: rendering ${purpose === "to" ? "to:" : "the body"} failed: ${messageOf(error)}`,
          {
            ...where,
            cause: error,
          },
        );
      }
    };

    const renderedTo = (await render(to, "to", 1)).trim();
    if (renderedTo === "") return { template: templatePath, rowIndex, reason: "empty-to" };
    let path: string;
    try {
      path = normalizeOutputPath(renderedTo, this.options.pathLimits);
    } catch (error) {
      throw new PlanError("output-path", `${templatePath}: ${messageOf(error)}`, { ...where, cause: error });
    }
    return { templatePath, rowIndex, context, path, reads, render };
  }

  /** renderUnit, with the body as the engine rendered it (before normalizeOutput) for previews. */
  private async renderUnitWithRawBody(
    prepared: PreparedTemplate,
    unit: number,
  ): Promise<{ artifact: PlannedArtifact; rawBody: string } | SkippedUnit> {
    const located = await this.locateUnit(prepared, unit);
    if ("reason" in located) return located;
    const { templatePath, rowIndex, context, path, reads, render } = located;
    // `rows` is left out: it is the same for every unit and already a recorded dependency.
    const contextSha256 = await sha256Hex(canonicalJson({ ...context, rows: undefined }));
    const rawBody = await render(prepared.body, "body", prepared.bodyLine);
    const content = normalizeOutput(rawBody);
    const bytes = new TextEncoder().encode(content);
    const artifact: PlannedArtifact = {
      ...prepared.mode,
      path,
      content,
      bytes,
      sha256: await sha256Hex(bytes),
      size: bytes.length,
      template: { path: templatePath, hash: prepared.template.hash },
      rowIndex,
      contextSha256,
      dependencies: await this.recorder.dependencies(reads),
    };
    if (prepared.frontmatter.chmod !== undefined) artifact.chmod = octalMode(prepared.frontmatter.chmod);
    return { artifact, rawBody };
  }

  /**
   * Every unit of one prepared template, in unit order: what a job writes for it, and why the rest
   * is skipped. Stops as soon as `planned` earlier artifacts plus these exceed `maxArtifacts`.
   * `keepRawBodies` also returns each artifact's body as rendered, before normalization (previews).
   */
  async renderUnits(
    prepared: PreparedTemplate,
    options: { maxArtifacts?: number; planned?: number; keepRawBodies?: boolean } = {},
  ): Promise<TemplateUnits> {
    const maxArtifacts = options.maxArtifacts ?? this.options.maxArtifacts ?? Number.POSITIVE_INFINITY;
    const planned = options.planned ?? 0;
    const rawBodies: string[] = [];
    if (prepared.frontmatter.to === undefined) {
      return {
        artifacts: [],
        skipped: [{ template: prepared.template.path, rowIndex: null, reason: "no-to" }],
        rawBodies,
      };
    }
    const artifacts: PlannedArtifact[] = [];
    const skipped: SkippedUnit[] = [];
    for (let unit = 0; unit < prepared.units; unit++) {
      const result = await this.renderUnitWithRawBody(prepared, unit);
      if ("reason" in result) {
        skipped.push(result);
        continue;
      }
      artifacts.push(result.artifact);
      if (options.keepRawBodies) rawBodies.push(result.rawBody);
      if (planned + artifacts.length > maxArtifacts) {
        throw new PlanError("too-many-artifacts", `the plan exceeds ${maxArtifacts} artifacts`, {
          template: prepared.template.path,
        });
      }
    }
    return { artifacts, skipped, rawBodies };
  }

  /** The body of a template without `to:` (a partial), rendered as a unit's would be, before normalization; for previews. */
  async renderBodyWithoutTo(prepared: PreparedTemplate): Promise<string> {
    const templatePath = prepared.template.path;
    const reads = new Set<string>();
    try {
      const rendered = await this.deps.render(prepared.body, this.contextFor(prepared, null), {
        query: (text: string) => this.recorder.run(text, reads),
        templatePath,
        purpose: "body",
        firstLine: prepared.bodyLine,
      });
      return rendered;
    } catch (error) {
      throw new PlanError("render", `${templatePath}: rendering the body failed: ${messageOf(error)}`, {
        template: templatePath,
        cause: error,
      });
    }
  }
}

export interface TemplateUnits {
  artifacts: PlannedArtifact[];
  skipped: SkippedUnit[];
  /** With `keepRawBodies`: each artifact's body before normalizeOutput, in artifact order; else empty. */
  rawBodies: string[];
}

/** 0o755 → `"0755"`. */
export function octalMode(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}
