import { canonicalJson } from "../core/canonical-json";
import { sha256Hex } from "../core/sha256";
import { parseFrontmatter } from "../template/frontmatter/parse-frontmatter";
import { analyzeTemplate, KGEN_GLOBALS, NUNJUCKS_GLOBALS } from "../template/kgen/analyze-template";
import type { RecordedDependency } from "./attestation";
import type { FetchedRows, PinnedQueryOutcome, PinnedQuerySource } from "./fetched-queries";
import { kgenContext } from "./generate";
import { JobRenderer } from "./job-renderer";
import type { Lock } from "./lock";
import { ROW_TERMS_KEY, type RowSemantics, type RowTerm, type TermRow, templateRows } from "./row-values";
import {
  compare,
  type PlanTemplate,
  type PreparedTemplate,
  type QueryRow,
  type QueryRows,
  type SkippedUnit,
  type UnitPath,
} from "./template-unit";

/**
 * Impact analysis: which artifacts of a job a new graph version (or other templates or params) would
 * change, without rendering a single body. Renders are pure functions of the template sources, the
 * params, the `kgen` context and the results of the queries they read, so an artifact whose recorded
 * queries answer the same at the target, whose template and params are the same and whose foreach row
 * is the same is written byte for byte as before. Output paths at the target come from the planner
 * itself (frontmatter queries, skipIf and `to:` only); a foreach template whose `to:` reads nothing but
 * its row and params is re-planned only for the rows that changed.
 */

export interface ImpactSide {
  lock: Lock;
  /** Every template of the side's generator, sources included. */
  templates: readonly PlanTemplate[];
  params: Record<string, unknown>;
  /** The side's pinned graph version, in bounded batches. */
  source: PinnedQuerySource;
}

/** A written artifact as the job's index recorded it. */
export interface RecordedArtifact {
  path: string;
  templatePath: string;
  templateHash: string;
  dependencies: readonly RecordedDependency[];
}

export interface ImpactLimits {
  /** More recorded artifacts, or units to plan on one side, than this is refused. */
  maxArtifacts: number;
  /** Queries run over both versions together. */
  maxQueries: number;
  /** Rows answered over both versions together. */
  maxRows: number;
  /** Per query, as the plan allows. */
  query: { maxRows: number; maxSteps: number };
}

export interface ImpactInput {
  /** The job as it ran. */
  baseline: ImpactSide;
  /** What the job would be re-run as: usually the same templates and params over another graph version. */
  target: ImpactSide;
  artifacts: readonly RecordedArtifact[];
  limits: ImpactLimits;
}

/** A row as a report shows it: variable → lexical value. */
export type RowView = Record<string, string>;

export type ImpactReason =
  | {
      kind: "query";
      query: string;
      before: string;
      after: string;
      rowsAdded: RowView[];
      rowsRemoved: RowView[];
      rowsAddedCount: number;
      rowsRemovedCount: number;
    }
  | { kind: "row"; query: string; binding: string; before: RowView | null; after: RowView | null }
  | { kind: "template"; template: string; before: string; after: string | null }
  | { kind: "params"; before: string; after: string }
  | { kind: "environment"; reads: string[] }
  | { kind: "planned"; template: string; row: RowView | null }
  | { kind: "unplanned"; template: string; row: RowView | null };

export type ImpactStatus = "unchanged" | "changed" | "added" | "removed";
export type ImpactRisk = "breaking" | "additive" | "modified";

export interface ArtifactImpact {
  path: string;
  status: ImpactStatus;
  /** Absent for unchanged artifacts. */
  risk?: ImpactRisk;
  template: string;
  reasons: ImpactReason[];
}

export interface ImpactReport {
  baseline: { graph: Lock["graph"] };
  target: { graph: Lock["graph"] };
  /** Every artifact of the job and every one the target adds, by path. */
  artifacts: ArtifactImpact[];
  summary: Record<ImpactStatus | ImpactRisk, number>;
  /** What the analysis cost: queries and rows over both versions, units whose path was rendered. */
  work: { queries: number; rows: number; pathRenders: number };
}

/** The analysis would exceed one of its limits. */
export class ImpactBudgetExceededError extends Error {
  constructor(
    readonly budget: "artifacts" | "queries" | "rows" | "units",
    readonly limit: number,
  ) {
    super(`impact analysis needs more than ${limit} ${budget}`);
    this.name = "ImpactBudgetExceededError";
  }
}

/** Rows of a reason shown in full; the counts are always exact. */
export const IMPACT_ROWS_SHOWN = 20;

const GRAPH_GLOBALS = ["sparql", "label"];
const ENVIRONMENT_GLOBALS = new Set(["now", "date", "random"]);
const ENVIRONMENT_FILTERS = new Set(["date", "random"]);
const CONTEXT_WORDS = /\b(?:kgen|rows)\b/;

/** What a template's renders read beyond their row, params and recorded queries. */
interface TemplateReads {
  /** The whole frontmatter result (`rows`). */
  rows: boolean;
  /** The build time, the pinned graph or the seeded random (`kgen`, `now`, `date`, `random`). */
  environment: string[];
  /** `to:` and skipIf read only the unit's row and params: an unchanged row keeps its path. */
  rowLocalPath: boolean;
}

const UNKNOWN_READS: TemplateReads = { rows: true, environment: ["(unknown)"], rowLocalPath: false };

function analysisOf(source: string) {
  return analyzeTemplate(source, { globals: [...NUNJUCKS_GLOBALS, ...KGEN_GLOBALS, ...GRAPH_GLOBALS] });
}

function referencesOthers(analysis: ReturnType<typeof analysisOf>): boolean {
  return (
    analysis.dynamicReferences ||
    analysis.includes.length > 0 ||
    analysis.imports.length > 0 ||
    analysis.extends.length > 0
  );
}

/** Conservative: a template that includes others is taken to read whatever any template of its generator reads. */
function templateReadsOf(template: PlanTemplate, generator: readonly PlanTemplate[]): TemplateReads {
  try {
    const { frontmatter, body } = parseFrontmatter(template.source);
    const to = typeof frontmatter.to === "string" ? analysisOf(frontmatter.to) : undefined;
    const analyses = [analysisOf(body)];
    if (referencesOthers(analyses[0] as ReturnType<typeof analysisOf>)) {
      for (const other of generator) {
        if (other.path !== template.path) analyses.push(analysisOf(parseFrontmatter(other.source).body));
      }
    }
    if (to) analyses.push(to);
    const variables = new Set(analyses.flatMap((analysis) => analysis.variables));
    const environment = new Set<string>();
    if (variables.has("kgen")) environment.add("kgen");
    for (const analysis of analyses) {
      for (const name of analysis.globals) if (ENVIRONMENT_GLOBALS.has(name)) environment.add(name);
      for (const name of analysis.filters) if (ENVIRONMENT_FILTERS.has(name)) environment.add(`| ${name}`);
    }
    const skipIf = frontmatter.skipIf;
    const rowLocalPath =
      to !== undefined &&
      !referencesOthers(to) &&
      !to.variables.some((name) => name === "kgen" || name === "rows") &&
      !to.globals.some((name) => ENVIRONMENT_GLOBALS.has(name) || GRAPH_GLOBALS.includes(name)) &&
      !to.filters.some((name) => ENVIRONMENT_FILTERS.has(name)) &&
      (skipIf === undefined || !CONTEXT_WORDS.test(skipIf));
    return {
      rows: variables.has("rows") || (skipIf !== undefined && /\brows\b/.test(skipIf)),
      environment: [...environment].sort(compare),
      rowLocalPath,
    };
  } catch {
    return UNKNOWN_READS;
  }
}

/** A source that counts what it answers against the analysis' limits (shared by both sides). */
function budgetedSource(
  source: PinnedQuerySource,
  limits: ImpactLimits,
  work: ImpactReport["work"],
): PinnedQuerySource {
  return async (queries) => {
    if (work.queries + queries.length > limits.maxQueries)
      throw new ImpactBudgetExceededError("queries", limits.maxQueries);
    work.queries += queries.length;
    const answers = await source(queries);
    for (const outcome of answers.values() as Iterable<PinnedQueryOutcome>) {
      if (outcome.ok) work.rows += outcome.rows.length;
    }
    if (work.rows > limits.maxRows) throw new ImpactBudgetExceededError("rows", limits.maxRows);
    return answers;
  };
}

function rowView(row: QueryRow | null | undefined): RowView | null {
  if (row === null || row === undefined) return null;
  const terms = row[ROW_TERMS_KEY] as Record<string, RowTerm> | undefined;
  const view: RowView = {};
  for (const variable of Object.keys(row).sort(compare)) {
    if (variable === ROW_TERMS_KEY) continue;
    const value = terms?.[variable]?.value ?? row[variable];
    Object.defineProperty(view, variable, {
      value: String(value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return view;
}

/** A row's identity as a string: equal exactly when the rows' canonical JSON as templates see them is. */
function identity(parts: string[]): string {
  return JSON.stringify(parts);
}

function termsKey(terms: Record<string, RowTerm>): string {
  const parts: string[] = [];
  for (const variable of Object.keys(terms).sort(compare)) {
    const term = terms[variable] as RowTerm;
    parts.push(variable, term.termType, term.value, term.datatype ?? "", term.language ?? "");
  }
  return identity(parts);
}

/** A template row's identity: its terms when typed (its values derive from them), else its values. */
function rowKey(row: QueryRow): string {
  const terms = row[ROW_TERMS_KEY] as Record<string, RowTerm> | undefined;
  if (terms !== undefined) return termsKey(terms);
  const parts: string[] = [];
  for (const variable of Object.keys(row).sort(compare)) parts.push(variable, String(row[variable]));
  return identity(parts);
}

/** A row as the store answered it, keyed as rowKey keys the template row it becomes. */
function termRowKey(row: TermRow, semantics: RowSemantics): string {
  if (semantics === "typed") return termsKey(row);
  const parts: string[] = [];
  for (const variable of Object.keys(row).sort(compare)) parts.push(variable, (row[variable] as RowTerm).value);
  return identity(parts);
}

/** A query result with each row's identity; rows become template rows only where one is needed. */
class KeyedRows {
  readonly keys: string[];
  private converted: QueryRows | undefined;

  constructor(
    private readonly fetched: FetchedRows,
    private readonly semantics: RowSemantics,
  ) {
    this.keys =
      fetched.form === "template" ? fetched.rows.map(rowKey) : fetched.rows.map((row) => termRowKey(row, semantics));
  }

  row(index: number): QueryRow {
    if (this.fetched.form === "template") return this.fetched.rows[index] as QueryRow;
    return templateRows([this.fetched.rows[index] as TermRow], this.semantics)[0] as QueryRow;
  }

  all(): QueryRows {
    if (this.fetched.form === "template") return this.fetched.rows;
    this.converted ??= templateRows(this.fetched.rows, this.semantics);
    return this.converted;
  }
}

function sameRows(a: KeyedRows, b: KeyedRows): boolean {
  return a.keys.length === b.keys.length && a.keys.every((key, index) => key === b.keys[index]);
}

/** Rows in `from` and not in `other`, as multisets, in `from`'s order. */
function rowsMissingFrom(from: KeyedRows, other: KeyedRows): number[] {
  const counts = new Map<string, number>();
  for (const key of other.keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  const missing: number[] = [];
  for (const [index, key] of from.keys.entries()) {
    const left = counts.get(key) ?? 0;
    if (left > 0) counts.set(key, left - 1);
    else missing.push(index);
  }
  return missing;
}

interface PlannedUnit {
  template: string;
  rowKey: string | null;
  row: QueryRow | null;
}

/** The frontmatter fields impact analysis plans by; undefined when they do not parse (the planner says why). */
function frontmatterShape(template: PlanTemplate): { to?: string; query?: string; foreach?: string } | undefined {
  try {
    const { frontmatter } = parseFrontmatter(template.source);
    return {
      to: typeof frontmatter.to === "string" ? frontmatter.to : undefined,
      query: typeof frontmatter.query === "string" ? frontmatter.query : undefined,
      foreach: frontmatter.foreach ?? undefined,
    };
  } catch {
    return undefined;
  }
}

/** One side of the comparison: the planner over its graph version, counting what it plans. */
class SidePlanner {
  readonly renderer: JobRenderer;
  readonly source: PinnedQuerySource;
  readonly byPath: Map<string, PlanTemplate>;
  readonly shapes = new Map<string, ReturnType<typeof frontmatterShape>>();
  private units = 0;

  constructor(
    side: ImpactSide,
    private readonly limits: ImpactLimits,
    private readonly work: ImpactReport["work"],
  ) {
    this.renderer = new JobRenderer({
      lock: side.lock,
      templates: [...side.templates],
      params: side.params,
      limits: limits.query,
      maxArtifacts: limits.maxArtifacts,
    });
    this.source = budgetedSource(side.source, limits, work);
    this.byPath = new Map(side.templates.map((template) => [template.path, template]));
    for (const template of side.templates) this.shapes.set(template.path, frontmatterShape(template));
  }

  /** Every frontmatter query of a template with `to:`, fetched in batches before any template is planned. */
  async fetchFrontmatterQueries(): Promise<void> {
    const queries = new Set<string>();
    for (const shape of this.shapes.values()) if (shape?.to !== undefined && shape.query) queries.add(shape.query);
    await this.renderer.queryRows([...queries].sort(compare), this.source);
  }

  async rows(query: string): Promise<KeyedRows> {
    const fetched = (await this.renderer.fetchedRows([query], this.source)).get(query) as FetchedRows;
    return new KeyedRows(fetched, this.renderer.rowSemantics);
  }

  keyed(rows: QueryRows): KeyedRows {
    return new KeyedRows({ form: "template", rows }, this.renderer.rowSemantics);
  }

  /** Every unit's path of one template; answers its frontmatter rows (null without). */
  async allPaths(path: string, into: Map<string, PlannedUnit>): Promise<QueryRows | null> {
    const prepared = await this.renderer.preparedTemplate(path, this.source);
    this.count(prepared.units);
    const units = Array.from({ length: prepared.units }, (_, unit) => unit);
    this.record(prepared, await this.renderer.unitPaths(prepared, units, this.source), into);
    return prepared.rows;
  }

  /** The paths of some rows of one template's result. */
  async rowPaths(path: string, rows: QueryRows, into: Map<string, PlannedUnit>): Promise<void> {
    if (rows.length === 0) return;
    this.count(rows.length);
    const { prepared, paths } = await this.renderer.rowPaths(path, rows, this.source);
    this.record(prepared, paths, into);
  }

  private count(units: number): void {
    this.units += units;
    this.work.pathRenders += units;
    if (this.units > this.limits.maxArtifacts) throw new ImpactBudgetExceededError("units", this.limits.maxArtifacts);
  }

  private record(
    prepared: PreparedTemplate,
    results: readonly (UnitPath | SkippedUnit)[],
    into: Map<string, PlannedUnit>,
  ): void {
    for (const result of results) {
      if ("reason" in result || into.has(result.path)) continue;
      const row = result.rowIndex === null ? null : (prepared.rows?.[result.rowIndex] ?? null);
      into.set(result.path, { template: result.template, rowKey: row === null ? null : rowKey(row), row });
    }
  }
}

function riskOf(reasons: readonly ImpactReason[]): ImpactRisk {
  let added = false;
  for (const reason of reasons) {
    if (reason.kind === "row" || reason.kind === "unplanned") return "breaking";
    if (reason.kind === "query") {
      if (reason.rowsRemovedCount > 0) return "breaking";
      if (reason.rowsAddedCount === 0) return "modified";
      added = true;
    } else if (reason.kind !== "planned") {
      return "modified";
    }
  }
  return added || reasons.some((reason) => reason.kind === "planned") ? "additive" : "modified";
}

export async function computeImpact(input: ImpactInput): Promise<ImpactReport> {
  const { baseline, target, artifacts, limits } = input;
  if (artifacts.length > limits.maxArtifacts) throw new ImpactBudgetExceededError("artifacts", limits.maxArtifacts);
  const work = { queries: 0, rows: 0, pathRenders: 0 };
  const before = new SidePlanner(baseline, limits, work);
  const after = new SidePlanner(target, limits, work);
  await before.fetchFrontmatterQueries();
  await after.fetchFrontmatterQueries();

  const paramsChanged = baseline.lock.paramsHash !== target.lock.paramsHash;
  const environmentChanged = canonicalJson(kgenContext(baseline.lock)) !== canonicalJson(kgenContext(target.lock));
  const reads = new Map<string, TemplateReads>();
  const readsOf = (path: string): TemplateReads => {
    let found = reads.get(path);
    if (found === undefined) {
      const template = after.byPath.get(path) ?? before.byPath.get(path);
      found = template
        ? templateReadsOf(template, after.byPath.has(path) ? target.templates : baseline.templates)
        : UNKNOWN_READS;
      reads.set(path, found);
    }
    return found;
  };

  // Output paths: in full where a path may depend on more than its row, else for the rows that changed only.
  // The frontmatter results both sides planned with are kept to compare them row by row.
  const oldPlanned = new Map<string, PlannedUnit>();
  const newPlanned = new Map<string, PlannedUnit>();
  const fullyPlanned = new Set<string>();
  const frontmatterRows = new Map<string, { old: KeyedRows; current: KeyedRows }>();
  const templatePaths = [...new Set([...before.byPath.keys(), ...after.byPath.keys()])].sort(compare);
  for (const path of templatePaths) {
    const old = before.byPath.get(path);
    const current = after.byPath.get(path);
    const shape = after.shapes.get(path);
    const query = shape?.query;
    const incremental =
      old !== undefined &&
      current !== undefined &&
      old.hash === current.hash &&
      !paramsChanged &&
      shape?.to !== undefined &&
      shape.foreach !== undefined &&
      query !== undefined &&
      readsOf(path).rowLocalPath;
    if (!incremental) {
      fullyPlanned.add(path);
      const oldRows = old ? await before.allPaths(path, oldPlanned) : null;
      const newRows = current ? await after.allPaths(path, newPlanned) : null;
      if (query !== undefined && oldRows && newRows && before.shapes.get(path)?.query === query) {
        frontmatterRows.set(query, { old: before.keyed(oldRows), current: after.keyed(newRows) });
      }
      continue;
    }
    const oldRows = await before.rows(query);
    const newRows = await after.rows(query);
    frontmatterRows.set(query, { old: oldRows, current: newRows });
    if (sameRows(oldRows, newRows)) continue;
    const pick = (rows: KeyedRows, indexes: number[]) => indexes.map((index) => rows.row(index));
    await before.rowPaths(path, pick(oldRows, rowsMissingFrom(oldRows, newRows)), oldPlanned);
    await after.rowPaths(path, pick(newRows, rowsMissingFrom(newRows, oldRows)), newPlanned);
  }

  // A frontmatter result is compared row by row; any other recorded query by its result's hash at the
  // target. The baseline's rows are fetched only for queries whose result changed.
  const recordedHashes = new Map<string, string>();
  for (const artifact of artifacts) {
    for (const dependency of artifact.dependencies) recordedHashes.set(dependency.query, dependency.resultSha256);
  }
  const recordedQueries = [...recordedHashes.keys()].sort(compare);
  const hashed = recordedQueries.filter((query) => !frontmatterRows.has(query));
  const newRows = await after.renderer.queryRows(hashed, after.source);
  const changedQueries = new Set<string>();
  for (const query of recordedQueries) {
    const rows = frontmatterRows.get(query);
    const changed = rows
      ? !sameRows(rows.old, rows.current)
      : (await sha256Hex(canonicalJson(newRows.get(query)))) !== recordedHashes.get(query);
    if (changed) changedQueries.add(query);
  }
  const oldRows = await before.renderer.queryRows(
    [...changedQueries].filter((query) => !frontmatterRows.has(query)),
    before.source,
  );
  const queryReasons = new Map<string, Promise<ImpactReason>>();
  const queryReason = (query: string): Promise<ImpactReason> | undefined => {
    if (!changedQueries.has(query)) return undefined;
    let reason = queryReasons.get(query);
    if (reason === undefined) {
      const was = frontmatterRows.get(query)?.old ?? before.keyed(oldRows.get(query) ?? []);
      const now = frontmatterRows.get(query)?.current ?? after.keyed(newRows.get(query) ?? []);
      reason = sha256Hex(canonicalJson(now.all())).then((hash): ImpactReason => {
        const removed = rowsMissingFrom(was, now);
        const added = rowsMissingFrom(now, was);
        return {
          kind: "query",
          query,
          before: recordedHashes.get(query) as string,
          after: hash,
          rowsAdded: added.slice(0, IMPACT_ROWS_SHOWN).map((index) => rowView(now.row(index)) as RowView),
          rowsRemoved: removed.slice(0, IMPACT_ROWS_SHOWN).map((index) => rowView(was.row(index)) as RowView),
          rowsAddedCount: added.length,
          rowsRemovedCount: removed.length,
        };
      });
      queryReasons.set(query, reason);
    }
    return reason;
  };

  const impacts: ArtifactImpact[] = [];
  const recordedPaths = new Set<string>();
  for (const artifact of artifacts) {
    recordedPaths.add(artifact.path);
    const templatePath = artifact.templatePath;
    const planned = newPlanned.get(artifact.path);
    const unplanned = oldPlanned.get(artifact.path);
    const exists =
      planned !== undefined ||
      (after.byPath.has(templatePath) && !fullyPlanned.has(templatePath) && unplanned === undefined);
    if (!exists) {
      impacts.push({
        path: artifact.path,
        status: "removed",
        risk: "breaking",
        template: templatePath,
        reasons: [{ kind: "unplanned", template: templatePath, row: rowView(unplanned?.row) }],
      });
      continue;
    }
    const writer = planned?.template ?? templatePath;
    const reasons: ImpactReason[] = [];
    const template = after.byPath.get(writer);
    if (template?.hash !== artifact.templateHash) {
      reasons.push({
        kind: "template",
        template: writer,
        before: artifact.templateHash,
        after: template?.hash ?? null,
      });
    }
    if (paramsChanged) {
      reasons.push({ kind: "params", before: baseline.lock.paramsHash, after: target.lock.paramsHash });
    }
    const shape = after.shapes.get(writer);
    const templateReads = readsOf(writer);
    const rowMoved = planned !== undefined || unplanned !== undefined;
    if (shape?.foreach !== undefined && rowMoved && planned?.rowKey !== unplanned?.rowKey) {
      reasons.push({
        kind: "row",
        query: shape.query as string,
        binding: shape.foreach,
        before: rowView(unplanned?.row),
        after: rowView(planned?.row),
      });
    }
    if (environmentChanged && templateReads.environment.length > 0) {
      reasons.push({ kind: "environment", reads: templateReads.environment });
    }
    for (const dependency of artifact.dependencies) {
      // A unit reads its own row of the frontmatter result (compared above), the whole result only through `rows`.
      if (dependency.query === shape?.query && !templateReads.rows) continue;
      const reason = queryReason(dependency.query);
      if (reason) reasons.push(await reason);
    }
    impacts.push(
      reasons.length === 0
        ? { path: artifact.path, status: "unchanged", template: writer, reasons }
        : { path: artifact.path, status: "changed", risk: riskOf(reasons), template: writer, reasons },
    );
  }
  for (const [path, unit] of newPlanned) {
    if (recordedPaths.has(path)) continue;
    impacts.push({
      path,
      status: "added",
      risk: "additive",
      template: unit.template,
      reasons: [{ kind: "planned", template: unit.template, row: rowView(unit.row) }],
    });
  }
  impacts.sort((a, b) => compare(a.path, b.path));

  const summary: ImpactReport["summary"] = {
    unchanged: 0,
    changed: 0,
    added: 0,
    removed: 0,
    breaking: 0,
    additive: 0,
    modified: 0,
  };
  for (const impact of impacts) {
    summary[impact.status]++;
    if (impact.risk) summary[impact.risk]++;
  }
  return {
    baseline: { graph: baseline.lock.graph },
    target: { graph: target.lock.graph },
    artifacts: impacts,
    summary,
    work,
  };
}
