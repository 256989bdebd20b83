// Expressions other than operators: literals, names, calls, filters, tests, groups, arrays and dicts.
import { TemplateSecurityError } from "../errors";
import { checkTextInput, filterCheck, filterPrintsInput, measureResult } from "../memory-guard";
import { compileTemplateRegex, TemplateRegExp } from "../template-regexp";
import type { Evaluate } from "./activation";
import { compileCapture, compileMacroFactory } from "./macros";
import { compileMemberLookup } from "./member-access";
import type {
  AstNode,
  BinaryNode,
  CaptureNode,
  DictNode,
  FilterNode,
  Frame,
  FunCallNode,
  IfNode,
  IsNode,
  LookupValNode,
  MacroNode,
  NodeListNode,
  SliceNode,
  SymbolNode,
  TemplateValue,
  ValueNode,
} from "./nunjucks-types";
import { type ConstantNode, compileOperators, isObject, operatorTypes, type TestCallNode } from "./operators";
import { originalContextOrFrameLookup } from "./output";
import type { SymbolFrame } from "./regions";
import { objectProtoKeys } from "./sandbox";
import { fail, jsSyntaxError, NEEDS_TRANSFORM, nodeClasses, type TemplateCompiler } from "./template-compiler";

const hasOwn = Object.prototype.hasOwnProperty;

/** `_compileExpression`: a type-checked expression. */
export function compileExpression(compiler: TemplateCompiler, node: AstNode, frame: SymbolFrame): Evaluate {
  compiler.assertExpression(node);
  return compileUncheckedExpression(compiler, node, frame);
}

/** Any emitted expression text, re-associated with JavaScript precedence. */
export function compileUncheckedExpression(compiler: TemplateCompiler, node: AstNode, frame: SymbolFrame): Evaluate {
  // an atomic node (anything emitTokens would emit as a single operand) needs no re-association
  if (!operatorTypes.has(node.typename)) return compileAtom(compiler, node, frame);
  return compileOperators(compiler, node, frame);
}

/** Evaluates every expression, in order; the value is the last one's (JavaScript's comma operator). */
function lastOf(parts: Evaluate[]): Evaluate {
  return (act) => {
    let value: TemplateValue;
    for (const part of parts) value = part(act);
    return value;
  };
}

/** An expression emitted as one operand. */
export function compileAtom(compiler: TemplateCompiler, node: AstNode, frame: SymbolFrame): Evaluate {
  const compile = (child: AstNode) => compileUncheckedExpression(compiler, child, frame);
  switch (node.typename) {
    case "__const": {
      const value = (node as ConstantNode).value;
      return () => value;
    }
    case "__isCall":
      return compileTest(compiler, (node as TestCallNode).test, frame);
    case "Literal":
    case "TemplateData":
      return compileLiteral(node as ValueNode);
    case "Symbol":
      return compileSymbol(compiler, node as SymbolNode, frame);
    case "LookupVal":
      return compileMemberLookup(compiler, node as LookupValNode, frame);
    case "FunCall":
      return compileFunCall(compiler, node as FunCallNode, frame);
    case "Filter":
      return compileFilter(compiler, node as FilterNode, frame);
    case "Group":
      return compileGroup(compiler, node as NodeListNode, frame);
    case "Array": {
      const items = (node as NodeListNode).children.map(compile);
      return (act) => items.map((item) => item(act));
    }
    case "Dict":
      return compileDict(compiler, node as DictNode, frame, false);
    case "KeywordArgs":
      return compileDict(compiler, node as DictNode, frame, true);
    case "In": {
      const left = compile((node as BinaryNode).left);
      const right = compile((node as BinaryNode).right);
      return (act) => act.entry.runtime.inOperator(left(act), right(act));
    }
    case "Pow": {
      const left = compile((node as BinaryNode).left);
      const right = compile((node as BinaryNode).right);
      return (act) => left(act) ** right(act);
    }
    case "FloorDiv": {
      const { left, right, lineno, colno } = node as BinaryNode;
      const quotient = compile({ typename: "Div", left, right, lineno, colno } as BinaryNode);
      return (act) => Math.floor(quotient(act));
    }
    case "InlineIf": {
      const inlineIf = node as IfNode;
      const cond = compile(inlineIf.cond);
      const body = compile(inlineIf.body);
      const otherwise = inlineIf.else_ !== null ? compile(inlineIf.else_) : () => "";
      return (act) => (cond(act) ? body(act) : otherwise(act));
    }
    case "Caller":
      return compileMacroFactory(compiler, node as MacroNode, frame);
    case "Capture":
      return compileCapture(compiler, node as CaptureNode, frame);
    case "Slice": {
      const { start, stop, step } = node as SliceNode;
      return lastOf([start, stop, step].map((part) => compileExpression(compiler, part, frame)));
    }
    case "NodeList": {
      const items = (node as NodeListNode).children.map(compile);
      if (items.length === 0) throw jsSyntaxError("Unexpected token ')'");
      return lastOf(items);
    }
    default:
      if (node.typename === "Div") {
        const left = compile((node as BinaryNode).left);
        const right = compile((node as BinaryNode).right);
        return (act) => left(act) / right(act);
      }
      return fail(`compile: Cannot compile node: ${node.typename}`, node.lineno, node.colno);
  }
}

function compileLiteral(node: ValueNode): Evaluate {
  const value = node.value;
  if (value instanceof RegExp) {
    const compiled = compileTemplateRegex(value.source, value.flags);
    return (act) => new TemplateRegExp(compiled, act.entry.budget);
  }
  if (value !== null && typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
    const text = (value as object).toString();
    return () => text;
  }
  return () => value;
}

function compileSymbol(compiler: TemplateCompiler, node: SymbolNode, frame: SymbolFrame): Evaluate {
  const name = node.value;
  const slot = frame.lookup(name);
  if (slot) return compiler.getter(slot);
  const sandbox = compiler.options.sandbox;
  if (sandbox) compiler.deny(name);
  const guardProto = sandbox && objectProtoKeys.has(name);
  return (act) => {
    const entry = act.entry;
    const runtime = entry.runtime;
    if (runtime.contextOrFrameLookup === originalContextOrFrameLookup) {
      // runtime.contextOrFrameLookup, then Context.lookup, inlined
      for (let scope: Frame | null = entry.frame; scope; scope = scope.parent) {
        const value = scope.variables[name];
        if (value !== undefined) return value;
      }
      const context = entry.context;
      const vars = context.ctx;
      const globals = context.env.globals;
      if (guardProto && !hasOwn.call(vars, name) && !hasOwn.call(globals, name)) throw new TemplateSecurityError(name);
      if (name in globals && !(name in vars)) return globals[name];
      return vars[name];
    }
    return runtime.contextOrFrameLookup(entry.context, entry.frame, name);
  };
}

/** How callWrap names a callee that is not a function. */
function calleeLabel(node: AstNode): string {
  switch (node.typename) {
    case "Symbol":
      return (node as SymbolNode).value;
    case "FunCall":
      return `the return value of (${calleeLabel((node as FunCallNode).name)})`;
    case "LookupVal":
      return `${calleeLabel((node as LookupValNode).target)}["${calleeLabel((node as LookupValNode).val)}"]`;
    case "Literal":
      return ((node as ValueNode).value as object).toString();
    default:
      return "--expression--";
  }
}

function compileFunCall(compiler: TemplateCompiler, node: FunCallNode, frame: SymbolFrame): Evaluate {
  // 1-based, as TemplateError reports positions (nunjucks' generated code keeps the parser's 0-based ones)
  const lineno = node.lineno + 1;
  const colno = node.colno + 1;
  const callee = compileExpression(compiler, node.name, frame);
  const label = calleeLabel(node.name);
  const args = node.args.children.map((child) => compileUncheckedExpression(compiler, child, frame));
  const argCount = args.length;
  return (act) => {
    const entry = act.entry;
    entry.lineno = lineno;
    entry.colno = colno;
    const fn = callee(act);
    const values = new Array(argCount);
    for (let k = 0; k < argCount; k++) values[k] = (args[k] as Evaluate)(act);
    entry.budget.step();
    return entry.runtime.callWrap(fn, label, entry.context, values);
  };
}

function compileFilter(compiler: TemplateCompiler, node: FilterNode, frame: SymbolFrame): Evaluate {
  compiler.assertType(node.name, "Symbol");
  const name = node.name.value;
  if (compiler.optimisticAsyncFilters && compiler.optimisticAsyncFilters.indexOf(name) !== -1) throw NEEDS_TRANSFORM;
  compiler.deny(name);
  const args = node.args.children.map((child) => compileUncheckedExpression(compiler, child, frame));
  const argCount = args.length;
  const subject = `${name} filter`;
  const check = filterCheck(name);
  const printsInput = filterPrintsInput(name);
  // where a failing filter is reported (nunjucks leaves the position of the last call), 1-based
  const lineno = node.lineno + 1;
  const colno = node.colno + 1;
  if (argCount === 1 && !check) {
    const input = args[0] as Evaluate;
    return (act) => {
      const entry = act.entry;
      const filter = entry.env.getFilter(name);
      const value = input(act);
      entry.budget.step();
      entry.lineno = lineno;
      entry.colno = colno;
      if (printsInput && (isObject(value) || (typeof value === "string" && value.length * 3 > entry.maxOutputBytes)))
        checkTextInput(entry.budget, value, subject);
      const result = filter.call(entry.context, value);
      if (typeof result === "string" || Array.isArray(result)) measureResult(entry.budget, result, subject);
      return result;
    };
  }
  return (act) => {
    const entry = act.entry;
    const filter = entry.env.getFilter(name);
    const values = new Array(argCount);
    for (let k = 0; k < argCount; k++) values[k] = (args[k] as Evaluate)(act);
    entry.budget.step();
    entry.lineno = lineno;
    entry.colno = colno;
    const input = values[0];
    if (printsInput && (isObject(input) || (typeof input === "string" && input.length * 3 > entry.maxOutputBytes)))
      checkTextInput(entry.budget, input, subject);
    const counted = check ? check(entry.budget, values) : false;
    const result = filter.apply(entry.context, values);
    if (!counted && (typeof result === "string" || Array.isArray(result))) measureResult(entry.budget, result, subject);
    return result;
  };
}

/** `x is name(args)`: the test call (compared with `true` by the operator parser). */
function compileTest(compiler: TemplateCompiler, node: IsNode, frame: SymbolFrame): Evaluate {
  const name = (node.right.name ? node.right.name.value : node.right.value) as string;
  compiler.deny(name);
  const left = compileUncheckedExpression(compiler, node.left, frame);
  let argument: Evaluate | null = null;
  if (node.right.args) {
    const children = node.right.args.children;
    if (children.length === 1) argument = compileUncheckedExpression(compiler, children[0] as AstNode, frame);
    else if (children.length > 1) {
      // compileIs writes the argument list without commas.
      if (children.every((c) => c.typename === "Literal" && typeof (c as ValueNode).value === "number")) {
        const text = children.map((c) => ((c as ValueNode).value as number).toString()).join("");
        if (!/^\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) throw jsSyntaxError("Unexpected number");
        const value = Number(text);
        argument = () => value;
      } else throw jsSyntaxError("missing ) after argument list");
    }
  }
  if (argument) {
    const evaluateArgument = argument;
    return (act) => {
      const test = act.entry.env.getTest(name);
      const value = left(act);
      return test.call(act.entry.context, value, evaluateArgument(act));
    };
  }
  return (act) => act.entry.env.getTest(name).call(act.entry.context, left(act));
}

function compileGroup(compiler: TemplateCompiler, node: NodeListNode, frame: SymbolFrame): Evaluate {
  const items = node.children.map((child) => compileUncheckedExpression(compiler, child, frame));
  if (items.length === 0) throw jsSyntaxError("Unexpected token ')'");
  if (items.length === 1) return items[0] as Evaluate;
  return lastOf(items);
}

function compileDict(compiler: TemplateCompiler, node: DictNode, frame: SymbolFrame, keywords: boolean): Evaluate {
  const keys: string[] = [];
  const values: Evaluate[] = [];
  for (const pair of node.children) {
    const key = pair.key;
    const isName = key instanceof nodeClasses.Symbol;
    if (!isName && !(key instanceof nodeClasses.Literal && typeof (key as ValueNode).value === "string"))
      fail("compilePair: Dict keys must be strings or names", key.lineno, key.colno);
    const name = (key as ValueNode).value as string;
    if (name === "__proto__") compiler.deny("__proto__");
    keys.push(name);
    values.push(compileExpression(compiler, pair.value, frame));
  }
  const setsPrototype = keys.includes("__proto__");
  const count = keys.length;
  return (act) => {
    const dict: Record<string, TemplateValue> = {};
    for (let i = 0; i < count; i++) {
      const key = keys[i] as string;
      if (setsPrototype && key === "__proto__") Object.setPrototypeOf(dict, (values[i] as Evaluate)(act));
      else dict[key] = (values[i] as Evaluate)(act);
    }
    return keywords ? act.entry.runtime.makeKeywordArgs(dict) : dict;
  };
}
