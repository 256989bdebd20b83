// The parts of nunjucks' AST (nodes.js) and runtime objects (Frame, Context, Environment, Template, runtime.js)
// the closure compiler reads. nunjucks ships no types; these describe nunjucks 3.2.4's JavaScript as it is.
import type { RenderBudget } from "../budget";

/** Every AST node: `typename` is the node class name (a prototype getter in nodes.js). */
export interface AstNode {
  readonly typename: string;
  lineno: number;
  colno: number;
}
export interface ValueNode extends AstNode {
  value: unknown;
}
/** Symbol: a variable name. */
export interface SymbolNode extends AstNode {
  value: string;
}
export interface NodeListNode extends AstNode {
  children: AstNode[];
}
/** Root: the template; `findAll` walks its subtree in pre-order. */
export interface RootNode extends NodeListNode {
  findAll<T extends AstNode>(type: NodeClass, results?: T[]): T[];
}
export interface PairNode extends AstNode {
  key: AstNode;
  value: AstNode;
}
export interface DictNode extends AstNode {
  children: PairNode[];
}
export interface LookupValNode extends AstNode {
  target: AstNode;
  val: AstNode;
}
export interface SliceNode extends AstNode {
  start: AstNode;
  stop: AstNode;
  step: AstNode;
}
/** If, IfAsync and InlineIf. */
export interface IfNode extends AstNode {
  cond: AstNode;
  body: AstNode;
  else_: AstNode | null;
}
/** An Array of Symbols: the names a `for` destructures into. */
export interface SymbolListNode extends AstNode {
  children: SymbolNode[];
}
/** For, AsyncEach and AsyncAll: `name` is a Symbol or an Array of Symbols. */
export interface ForNode extends AstNode {
  arr: AstNode;
  name: SymbolNode | SymbolListNode;
  body: AstNode;
  else_: AstNode | null;
}
/** Macro and Caller: positional arguments are Symbols, keyword arguments a trailing Dict (KeywordArgs). */
export interface MacroNode extends AstNode {
  name: SymbolNode;
  args: NodeListNode;
  body: AstNode;
}
export interface FunCallNode extends AstNode {
  name: AstNode;
  args: NodeListNode;
}
/** Filter (FunCall with a Symbol name) and FilterAsync (whose result is bound to `symbol`). */
export interface FilterNode extends AstNode {
  name: SymbolNode;
  args: NodeListNode;
  symbol?: SymbolNode;
}
/** Include, Extends, Import and FromImport name the template with an expression. */
export interface TemplateRefNode extends AstNode {
  template: AstNode;
}
export interface IncludeNode extends TemplateRefNode {
  ignoreMissing: boolean;
}
export interface ImportNode extends TemplateRefNode {
  target: SymbolNode;
  withContext: boolean;
}
export interface FromImportNode extends TemplateRefNode {
  names: NodeListNode;
  withContext: boolean;
}
export interface BlockNode extends AstNode {
  name: SymbolNode;
  body: NodeListNode;
}
/** Super: the block's parent output bound to `symbol` (placed by transformer.liftSuper). */
export interface SuperNode extends AstNode {
  blockName: SymbolNode;
  symbol: SymbolNode;
}
export interface SetNode extends AstNode {
  targets: SymbolNode[];
  value: AstNode | null;
  body: AstNode;
}
export interface CaseNode extends AstNode {
  cond: AstNode;
  body: NodeListNode;
}
export interface SwitchNode extends AstNode {
  expr: AstNode;
  cases: CaseNode[];
  default: AstNode | null;
}
export interface CaptureNode extends AstNode {
  body: AstNode;
}
export interface UnaryNode extends AstNode {
  target: AstNode;
}
/** Binary operators (Or, And, Add, Concat, Sub, Mul, Div, FloorDiv, Mod, Pow, In) and Is. */
export interface BinaryNode extends AstNode {
  left: AstNode;
  right: AstNode;
}
/** Is: `right` is a Symbol (`x is odd`) or a FunCall (`x is divisibleby(3)`). */
export interface IsNode extends AstNode {
  left: AstNode;
  right: AstNode & { value?: string; name?: SymbolNode; args?: NodeListNode };
}
export interface CompareNode extends AstNode {
  expr: AstNode;
  ops: { type: string; expr: AstNode }[];
}
/** CallExtension and CallExtensionAsync: a custom tag calling `ext[prop](context, …args, …contentArgs)`. */
export interface CallExtensionNode extends AstNode {
  extName: string;
  prop: string;
  args: NodeListNode | null;
  contentArgs: (AstNode | null)[];
  autoescape?: boolean;
}

/** An instance of a class of nodes.js: `fields` names its child fields, in the order nunjucks walks them. */
export interface ClassNode extends AstNode {
  readonly fields: readonly string[];
}
/** A node class of nodes.js whose instances are `T` (`new nodes.Symbol(lineno, colno, value)`). */
export type NodeClass<T extends AstNode = AstNode> = abstract new (...args: never[]) => T;

/**
 * runtime.Frame. The compiler uses it twice: at compile time as the symbol table of the generated code (values
 * are variable slots), at render time as nunjucks' own frame (values are template values).
 */
export interface Frame<V = unknown> {
  variables: Record<string, V>;
  parent: Frame<V> | null;
  topLevel: boolean;
  set(name: string, value: V, resolveUp?: boolean): void;
  lookup(name: string): V | undefined;
  push(isolateWrites?: boolean): Frame<V>;
  pop(): Frame<V>;
}

export type NodeCallback = (err?: unknown, result?: unknown) => void;
/** The signature of a generated `root` or `b_<block>` function. */
export type RenderFunction = (
  env: Environment,
  context: Context,
  frame: Frame,
  runtime: Runtime,
  cb: NodeCallback,
) => void;

/** A loaded nunjucks Template, as getTemplate hands it over. */
export interface Template {
  blocks: Record<string, RenderFunction>;
  rootRenderFunc: RenderFunction;
  getExported(context: Record<string, unknown>, frame: Frame, cb: NodeCallback): void;
  getExported(cb: NodeCallback): void;
  render(context: Record<string, unknown>, frame: Frame, cb: NodeCallback): void;
}

export type TemplateFunction = (this: Context, ...args: unknown[]) => unknown;

export interface Environment {
  opts: { autoescape: boolean };
  globals: Record<string, unknown>;
  getTemplate(
    name: unknown,
    eagerCompile: boolean,
    parentName: string | undefined,
    ignoreMissing: boolean,
    cb: NodeCallback,
  ): void;
  getFilter(name: string): TemplateFunction;
  getTest(name: string): TemplateFunction;
  getExtension(name: string): Record<string, (...args: unknown[]) => unknown>;
  waterfall(tasks: ((...args: never[]) => void)[], done: () => void): void;
}

/** nunjucks' Context, with the render budget the engine attaches to it. */
export interface Context {
  ctx: Record<string, unknown>;
  env: Environment;
  kgenBudget?: RenderBudget;
  kgenIncludeDepth?: number;
  setVariable(name: string, value: unknown): void;
  addExport(name: string, value?: unknown): void;
  getVariables(): Record<string, unknown>;
  addBlock(name: string, block: RenderFunction): void;
  getBlock(name: string): RenderFunction;
  getSuper(
    env: Environment,
    name: string,
    block: RenderFunction | undefined,
    frame: Frame,
    runtime: Runtime,
    cb: NodeCallback,
  ): void;
}

export type SafeStringClass = new (value: unknown) => object;
export type Macro = ((...args: unknown[]) => unknown) & { toString(): string };

/** runtime.js, as the generated code receives it (an engine may hand over a wrapped copy). */
export interface Runtime {
  Frame: new <V = unknown>() => Frame<V>;
  SafeString: SafeStringClass;
  memberLookup(obj: unknown, ...keyOrSlice: unknown[]): unknown;
  contextOrFrameLookup(context: Context, frame: Frame, name: string): unknown;
  fromIterator(value: unknown): unknown;
  asyncEach(arr: unknown, dimen: number, iter: (...args: unknown[]) => void, done: NodeCallback): void;
  asyncAll(arr: unknown, dimen: number, iter: (...args: unknown[]) => void, done: NodeCallback): void;
  makeMacro(argNames: string[], kwargNames: string[], fn: (...args: unknown[]) => unknown): Macro;
  makeKeywordArgs(obj: Record<string, unknown>): Record<string, unknown>;
  markSafe(value: unknown): unknown;
  suppressValue(value: unknown, autoescape: boolean): string;
  ensureDefined(value: unknown, lineno: number, colno: number): unknown;
  callWrap(fn: unknown, name: string, context: Context, args: unknown[]): unknown;
  inOperator(key: unknown, container: unknown): boolean;
  handleError(error: unknown, lineno: number, colno: number): Error;
}

/**
 * A value inside a render: whatever the context, filters and globals hand over. The generated JavaScript applies
 * its operators to it with JavaScript's coercions, and so do the closures; no narrower type exists.
 */
// biome-ignore lint/suspicious/noExplicitAny: template values are arbitrary JavaScript values.
export type TemplateValue = any;
