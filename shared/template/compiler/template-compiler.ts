// The compiler's state while it walks one template: the generated function being filled (its `var` slots), the
// buffer variable output goes to, and the accessors that reach a slot from the function using it.
import { TemplateSecurityError } from "../errors";
import nunjucksModules from "../nunjucks-modules.cjs";
import { type Activation, activationAt, type Evaluate, FunctionScope, scopeDistance, type VarSlot } from "./activation";
import type {
  AstNode,
  BlockNode,
  CallExtensionNode,
  ClassNode,
  DictNode,
  FunCallNode,
  NodeClass,
  NodeListNode,
  PairNode,
  SuperNode,
  SymbolNode,
  TemplateValue,
  ValueNode,
} from "./nunjucks-types";
import { deniedKeys } from "./sandbox";

const { lib, nodes } = nunjucksModules as { lib: { TemplateError: ErrorConstructorWithPosition }; nodes: NodeClasses };
type ErrorConstructorWithPosition = new (message: string, lineno?: number, colno?: number) => Error;
/** nodes.js: the node classes by name (those the compiler constructs or tests with instanceof are named). */
export interface NodeClasses {
  readonly [name: string]: NodeClass | undefined;
  Node: NodeClass<ClassNode>;
  NodeList: NodeClass<NodeListNode>;
  Literal: NodeClass<ValueNode>;
  Symbol: new (lineno: number, colno: number, value: string) => SymbolNode;
  Array: NodeClass<NodeListNode>;
  Dict: NodeClass<DictNode>;
  Pair: NodeClass<PairNode>;
  TemplateData: NodeClass<ValueNode>;
  FunCall: NodeClass<FunCallNode>;
  Block: NodeClass<BlockNode>;
  Super: new (lineno: number, colno: number, blockName: SymbolNode, symbol: SymbolNode) => SuperNode;
  CallExtension: NodeClass<CallExtensionNode>;
}
export const nodeClasses: NodeClasses = nodes;

export interface CompileOptions {
  throwOnUndefined?: boolean;
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  tags?: unknown;
  sandbox: boolean;
}

/** A compile error nunjucks' compiler.js raises, positioned 1-based as TemplateError reports it. */
export function fail(message: string, lineno?: number, colno?: number): never {
  throw new lib.TemplateError(
    message,
    lineno === undefined ? undefined : lineno + 1,
    colno === undefined ? undefined : colno + 1,
  );
}

/** The SyntaxError evaluating nunjucks' generated JavaScript would raise for this AST. */
export function jsSyntaxError(message: string): SyntaxError {
  return new SyntaxError(message);
}

/** Thrown while compiling an untransformed AST that turns out to need transformer.transform (async nodes). */
export const NEEDS_TRANSFORM = new Error("needs transformer.transform");

/** The node types _compileExpression accepts. */
export const expressionTypes: readonly string[] = [
  "Literal",
  "Symbol",
  "Group",
  "Array",
  "Dict",
  "FunCall",
  "Caller",
  "Filter",
  "LookupVal",
  "Compare",
  "InlineIf",
  "In",
  "Is",
  "And",
  "Or",
  "Not",
  "Add",
  "Concat",
  "Sub",
  "Mul",
  "Div",
  "FloorDiv",
  "Mod",
  "Pow",
  "Neg",
  "Pos",
  "NodeList",
];
const expressionClassesChecked = new WeakSet<object>();

export class TemplateCompiler {
  /** The generated function being compiled. */
  scope: FunctionScope = new FunctionScope(null);
  /** The variable `{{ … }}` output is appended to: the function's output, a macro's, a capture's… */
  buffer: VarSlot | null = null;
  /** Compiling a b_<block> function rather than root. */
  inBlock = false;
  /** Set when compiling an untransformed AST: async nodes then abort to the exact (transformer) path. */
  optimisticAsyncFilters: string[] | null = null;
  /** A `{% block %}` was compiled: only then has the optimistic path block functions to build. */
  sawBlock = false;
  constructor(readonly options: CompileOptions) {}

  assertType(node: AstNode, ...names: string[]): void {
    if (node && node.typename === "Slice") return;
    for (const name of names) if (node instanceof (nodes[name] as NodeClass)) return;
    fail(`assertType: invalid type: ${node.typename}`, node.lineno, node.colno);
  }
  /** assertType(node, ...expressionTypes), memoised per node class. */
  assertExpression(node: AstNode): void {
    const nodeClass = node?.constructor;
    if (nodeClass && expressionClassesChecked.has(nodeClass)) return;
    this.assertType(node, ...expressionTypes);
    if (nodeClass) expressionClassesChecked.add(nodeClass);
  }
  /** Refuses a name the sandbox denies (member, variable, target, filter or test name). */
  deny(name: unknown): void {
    if (this.options.sandbox && typeof name === "string" && deniedKeys.has(name)) throw new TemplateSecurityError(name);
  }

  /** Reads a slot from the current function (a `var` of this or an enclosing function). */
  getter(slot: VarSlot): Evaluate {
    const distance = scopeDistance(slot.scope, this.scope);
    const index = slot.index;
    if (distance === 0) return (act) => act.slots[index];
    if (distance === 1) return (act) => (act.parent as Activation).slots[index];
    if (distance < 0)
      return () => {
        throw new ReferenceError(`t_${index} is not defined`);
      };
    return (act) => activationAt(act, distance).slots[index];
  }
  setter(slot: VarSlot): (act: Activation, value: TemplateValue) => void {
    const distance = scopeDistance(slot.scope, this.scope);
    const index = slot.index;
    if (distance === 0)
      return (act, value) => {
        act.slots[index] = value;
      };
    if (distance < 0)
      return () => {
        throw new ReferenceError(`t_${index} is not defined`);
      };
    return (act, value) => {
      activationAt(act, distance).slots[index] = value;
    };
  }
  /** `buffer += value` on the current buffer variable, with the output budget. */
  appender(): (act: Activation, value: TemplateValue) => void {
    const slot = this.buffer as VarSlot;
    const distance = scopeDistance(slot.scope, this.scope);
    const index = slot.index;
    if (distance === 0)
      return (act, value) => {
        const slots = act.slots;
        const text = slots[index] + value;
        if (text.length > act.entry.maxOutputBytes) act.entry.budget.checkLength(text);
        slots[index] = text;
      };
    return (act, value) => {
      const slots = activationAt(act, distance).slots;
      const text = slots[index] + value;
      if (text.length > act.entry.maxOutputBytes) act.entry.budget.checkLength(text);
      slots[index] = text;
    };
  }
  /** Compiles `body` as a new function nested in the current one. */
  withFunction<T>(body: () => T): { scope: FunctionScope; result: T } {
    const saved = this.scope;
    const scope = new FunctionScope(saved);
    this.scope = scope;
    try {
      return { scope, result: body() };
    } finally {
      this.scope = saved;
    }
  }
  /** Compiles `body` as a new nested function whose output goes to a buffer variable of its own. */
  withBufferedFunction<T>(body: (buffer: VarSlot) => T): { scope: FunctionScope; result: T } {
    const savedBuffer = this.buffer;
    try {
      return this.withFunction(() => {
        const buffer = this.scope.allocate();
        this.buffer = buffer;
        return body(buffer);
      });
    } finally {
      this.buffer = savedBuffer;
    }
  }
}
