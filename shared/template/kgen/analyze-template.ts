import nunjucksParser, { type NunjucksParserNode } from "nunjucks/src/parser";

/** Globals every nunjucks Environment defines. */
export const NUNJUCKS_GLOBALS: readonly string[] = ["cycler", "joiner", "range"];
/** Globals the KGEN environment adds (see createKgenEnvironmentSpec). */
export const KGEN_GLOBALS: readonly string[] = ["date", "now", "random"];

export interface TemplateAnalysis {
  /** Free variables: names the template reads from its context (roots of lookups), sorted. */
  variables: string[];
  /** Globals the template calls or reads (names in `globals` that are not shadowed), sorted. */
  globals: string[];
  /** Filters applied (`{{ x | f }}` and `{% filter f %}`), sorted. */
  filters: string[];
  /** `{% block name %}` names, sorted. */
  blocks: string[];
  /** `{% macro name %}` names, sorted. */
  macros: string[];
  /** Literal targets of `{% extends %}`, `{% include %}`, `{% import %}` / `{% from … import %}`, sorted. */
  extends: string[];
  includes: string[];
  imports: string[];
  /** Whether some extends/include/import target is an expression rather than a string literal. */
  dynamicReferences: boolean;
}

export interface AnalyzeTemplateOptions {
  /** Names resolved as globals rather than context variables (default: nunjucks' and KGEN's). */
  globals?: readonly string[];
  /** Lexer options as nunjucks takes them (`trimBlocks`, `lstripBlocks`, `tags`). */
  lexerOptions?: Record<string, unknown>;
  /** Custom tag extensions, as registered with `env.addExtension`. */
  extensions?: unknown[];
}

/** A template that nunjucks' parser rejects; `line` and `column` are 1-based when known. */
export class TemplateSyntaxError extends Error {
  readonly line?: number;
  readonly column?: number;

  constructor(message: string, line?: number, column?: number) {
    super(
      line === undefined ? message : `${message} (line ${line}${column === undefined ? "" : `, column ${column}`})`,
    );
    this.name = "TemplateSyntaxError";
    this.line = line;
    this.column = column;
  }
}

/** Names bound in one frame; `parent` is the enclosing frame, as nunjucks' runtime Frame. */
class Scope {
  readonly names = new Set<string>();
  constructor(readonly parent?: Scope) {}
  has(name: string): boolean {
    for (let scope: Scope | undefined = this; scope !== undefined; scope = scope.parent) {
      if (scope.names.has(name)) return true;
    }
    return false;
  }
}

/** Parses a template with nunjucks' own parser (no code generation), mapping its errors to TemplateSyntaxError. */
export function parseTemplate(source: string, options: AnalyzeTemplateOptions = {}): NunjucksParserNode {
  try {
    return nunjucksParser.parse(source, options.extensions, options.lexerOptions);
  } catch (error) {
    const { message, lineno, colno } = error as { message: string; lineno?: number; colno?: number };
    throw new TemplateSyntaxError(String(message).trim(), lineno, colno);
  }
}

/**
 * What a template reads and references, from nunjucks' parser AST. A name is a free variable
 * when it is read where no `set`, `for` target, macro or caller argument, import, `loop`,
 * `caller` or `super` binds it. Scoping follows nunjucks' frames: `for`, macros, call blocks
 * and blocks open a frame; `if`/`switch` do not, but a name set in only some branches is not
 * known to be bound after them, so a later read counts as free. Macro bodies see their
 * arguments and the template's unconditional top-level bindings (through the context), not the
 * frame they are defined in. `{% set x = x + 1 %}` reads `x`.
 */
export function analyzeTemplate(source: string, options: AnalyzeTemplateOptions = {}): TemplateAnalysis {
  const root = parseTemplate(source, options);
  const globalNames = new Set(options.globals ?? [...NUNJUCKS_GLOBALS, ...KGEN_GLOBALS]);
  const variables = new Set<string>();
  const globals = new Set<string>();
  const filters = new Set<string>();
  const blocks = new Set<string>();
  const macros = new Set<string>();
  const references = { extends: new Set<string>(), includes: new Set<string>(), imports: new Set<string>() };
  let dynamicReferences = false;

  const topLevel = new Scope();
  for (const child of root.children ?? []) {
    for (const name of boundNames(child)) topLevel.names.add(name);
  }

  const isNode = (value: unknown): value is NunjucksParserNode =>
    value !== null && typeof value === "object" && typeof (value as NunjucksParserNode).typename === "string";
  const childrenOf = (node: unknown): NunjucksParserNode[] => (isNode(node) ? (node.children ?? []) : []);

  const recordReference = (kind: keyof typeof references, template: unknown, scope: Scope) => {
    if (isNode(template) && template.typename === "Literal" && typeof template.value === "string") {
      references[kind].add(template.value);
    } else {
      dynamicReferences = true;
      visit(template, scope);
    }
  };

  const bindSignature = (args: unknown, scope: Scope) => {
    for (const arg of childrenOf(args)) {
      if (arg.typename === "Symbol") scope.names.add(String(arg.value));
      else if (arg.typename === "KeywordArgs") {
        for (const pair of childrenOf(arg)) {
          visit(pair.value, scope);
          if (isNode(pair.key)) scope.names.add(String(pair.key.value));
        }
      }
    }
  };

  /** Visits `node` in a scope of its own; returns the names it bound. */
  const visitBranch = (node: unknown, scope: Scope): Set<string> => {
    const branch = new Scope(scope);
    visit(node, branch);
    return branch.names;
  };

  const bindIntersection = (branches: Array<Set<string>>, scope: Scope) => {
    const [first, ...rest] = branches;
    for (const name of first ?? []) {
      if (rest.every((branch) => branch.has(name))) scope.names.add(name);
    }
  };

  function visit(node: unknown, scope: Scope): void {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, scope);
      return;
    }
    if (!isNode(node)) return;
    switch (node.typename) {
      case "Symbol": {
        const name = String(node.value);
        if (scope.has(name)) return;
        if (globalNames.has(name)) globals.add(name);
        else variables.add(name);
        return;
      }
      case "Literal":
      case "TemplateData":
      case "Super":
        return;
      case "LookupVal":
        visit(node.target, scope);
        visit(node.val, scope);
        return;
      case "Pair":
        if (!isNode(node.key) || node.key.typename !== "Symbol") visit(node.key, scope);
        visit(node.value, scope);
        return;
      case "Filter":
      case "FilterAsync":
        if (isNode(node.name)) filters.add(String(node.name.value));
        visit(node.args, scope);
        return;
      case "Is":
        visit(node.left, scope);
        if (isNode(node.right) && node.right.typename !== "Symbol") visit(node.right.args, scope);
        return;
      case "Set": {
        visit(node.value, scope);
        visit(node.body, scope);
        for (const target of (node.targets as NunjucksParserNode[] | undefined) ?? []) {
          scope.names.add(String(target.value));
        }
        return;
      }
      case "If":
      case "IfAsync": {
        visit(node.cond, scope);
        const body = visitBranch(node.body, scope);
        if (node.else_) bindIntersection([body, visitBranch(node.else_, scope)], scope);
        return;
      }
      case "Switch": {
        visit(node.expr, scope);
        const branches: Array<Set<string>> = [];
        for (const kase of (node.cases as NunjucksParserNode[] | undefined) ?? []) {
          visit(kase.cond, scope);
          branches.push(visitBranch(kase.body, scope));
        }
        if (node.default) bindIntersection([...branches, visitBranch(node.default, scope)], scope);
        return;
      }
      case "For":
      case "AsyncEach":
      case "AsyncAll": {
        visit(node.arr, scope);
        const loopScope = new Scope(scope);
        loopScope.names.add("loop");
        const target = node.name as NunjucksParserNode;
        for (const name of target.typename === "Symbol" ? [target] : childrenOf(target)) {
          loopScope.names.add(String(name.value));
        }
        visit(node.body, loopScope);
        visitBranch(node.else_, scope);
        return;
      }
      case "Macro":
      case "Caller": {
        if (node.typename === "Macro" && isNode(node.name)) {
          macros.add(String(node.name.value));
          scope.names.add(String(node.name.value));
        }
        // A macro runs in a new frame that reaches the context; a call block keeps its frame.
        const bodyScope = new Scope(node.typename === "Macro" ? topLevel : scope);
        bodyScope.names.add("caller");
        bindSignature(node.args, bodyScope);
        visit(node.body, bodyScope);
        return;
      }
      case "Block": {
        if (isNode(node.name)) blocks.add(String(node.name.value));
        const blockScope = new Scope(scope);
        blockScope.names.add("super");
        visit(node.body, blockScope);
        return;
      }
      case "Extends":
        recordReference("extends", node.template, scope);
        return;
      case "Include":
        recordReference("includes", node.template, scope);
        return;
      case "Import":
        recordReference("imports", node.template, scope);
        if (isNode(node.target)) scope.names.add(String(node.target.value));
        return;
      case "FromImport":
        recordReference("imports", node.template, scope);
        for (const name of childrenOf(node.names)) {
          const bound = name.typename === "Pair" ? (name.value as NunjucksParserNode) : name;
          scope.names.add(String(bound.value));
        }
        return;
      default:
        for (const field of node.fields) visit(node[field], scope);
    }
  }

  visit(root, new Scope(topLevel.parent));
  const sorted = (names: Set<string>) => [...names].sort();
  return {
    variables: sorted(variables),
    globals: sorted(globals),
    filters: sorted(filters),
    blocks: sorted(blocks),
    macros: sorted(macros),
    extends: sorted(references.extends),
    includes: sorted(references.includes),
    imports: sorted(references.imports),
    dynamicReferences,
  };
}

/** Names a top-level statement binds unconditionally (what macro bodies can read through the context). */
function boundNames(node: NunjucksParserNode): string[] {
  switch (node.typename) {
    case "Set":
      return ((node.targets as NunjucksParserNode[] | undefined) ?? []).map((target) => String(target.value));
    case "Macro":
    case "Import":
      return [
        String(
          (node.typename === "Macro" ? (node.name as NunjucksParserNode) : (node.target as NunjucksParserNode)).value,
        ),
      ];
    case "FromImport":
      return ((node.names as NunjucksParserNode).children ?? []).map((name) =>
        String((name.typename === "Pair" ? (name.value as NunjucksParserNode) : name).value),
      );
    default:
      return [];
  }
}

/** The free variables a template reads, sorted (see analyzeTemplate). */
export function extractVariables(source: string, options: AnalyzeTemplateOptions = {}): string[] {
  return analyzeTemplate(source, options).variables;
}

const HOST_NAMES = new Set(["Date", "Math", "crypto", "globalThis", "process", "require", "window"]);

export interface DeterminismFinding {
  name: string;
  kind: "build-time" | "seeded-random" | "host-object";
  message: string;
}

/**
 * What makes a template's output depend on more than its context: `now`/`date` (the build
 * time), `random` (the render seed), and reads of host objects (`Date.now()`, `process.env`,
 * `Math.random()`), which KGEN renders never provide: they read as undefined.
 */
export function lintDeterminism(analysis: Pick<TemplateAnalysis, "variables" | "globals">): DeterminismFinding[] {
  const findings: DeterminismFinding[] = [];
  for (const name of analysis.globals) {
    if (name === "now" || name === "date") {
      findings.push({ name, kind: "build-time", message: `${name}() depends on the fixed build time` });
    } else if (name === "random") {
      findings.push({ name, kind: "seeded-random", message: "random depends on the render seed" });
    }
  }
  for (const name of analysis.variables) {
    if (HOST_NAMES.has(name)) {
      findings.push({ name, kind: "host-object", message: `${name} is a host object; templates cannot read it` });
    }
  }
  return findings;
}
