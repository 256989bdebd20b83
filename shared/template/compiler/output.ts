// `{{ … }}` output: values coerced, escaped and appended to the buffer variable as the generated code does it.
import { checkCoercion } from "../memory-guard";
import nunjucksModules from "../nunjucks-modules.cjs";
import { activationAt, type Evaluate, type Execute, scopeDistance, type VarSlot } from "./activation";
import { compileUncheckedExpression } from "./expressions";
import type {
  AstNode,
  Frame,
  NodeListNode,
  Runtime,
  SafeStringClass,
  SymbolNode,
  TemplateValue,
  ValueNode,
} from "./nunjucks-types";
import { runInOrder, type SymbolFrame } from "./regions";
import { deniedKeys, objectProtoKeys } from "./sandbox";
import { nodeClasses, type TemplateCompiler } from "./template-compiler";

const runtimeModule: Runtime = nunjucksModules.runtime;
const SafeString: SafeStringClass = runtimeModule.SafeString;
const { TemplateData } = nodeClasses;
/** nunjucks' own contextOrFrameLookup: an engine that wraps it gets the wrapper called instead of the inlined lookup. */
export const originalContextOrFrameLookup = runtimeModule.contextOrFrameLookup;

const libEscape: (text: string) => string = nunjucksModules.lib.escape;
const needsEscape = /[&"'<>\\]/;
/** lib.escape, skipped when the string holds none of the characters it replaces (same result, much cheaper). */
export function escapeHtml(text: string): string {
  return needsEscape.test(text) ? libEscape(text) : text;
}

/** A name no slot holds, read from the frames and the context (unless the sandbox guards it). */
function isContextName(frame: SymbolFrame, name: string, sandbox: boolean): boolean {
  return !frame.lookup(name) && !(sandbox && (deniedKeys.has(name) || objectProtoKeys.has(name)));
}

/** Output children (TemplateData constants and expressions) appended by one closure: same order, same values. */
export function compileFusedOutput(
  compiler: TemplateCompiler,
  children: AstNode[],
  frame: SymbolFrame,
): Execute | null {
  // per part: a constant text, an expression, or a bare variable name looked up inline
  const constants: (string | null)[] = [];
  const evaluators: (Evaluate | null)[] = [];
  const nameAt: Record<number, string> = {};
  const sandbox = compiler.options.sandbox;
  for (const child of children) {
    if (child instanceof TemplateData) {
      const text = (child as ValueNode).value as string;
      if (!text) continue;
      const last = constants.length - 1;
      if (last >= 0 && constants[last] !== null) constants[last] += text;
      else {
        constants.push(text);
        evaluators.push(null);
      }
    } else if (child.typename === "Symbol" && isContextName(frame, (child as SymbolNode).value, sandbox)) {
      // `{{ name }}`: the context/frame lookup is inlined below instead of calling a symbol closure
      constants.push(null);
      evaluators.push(null);
      nameAt[constants.length - 1] = (child as SymbolNode).value;
    } else {
      constants.push(null);
      evaluators.push(compileUncheckedExpression(compiler, child, frame));
    }
  }
  const count = constants.length;
  if (count === 0) return null;
  const names: (string | null)[] = constants.map((_, k) => nameAt[k] ?? null);
  const slot = compiler.buffer as VarSlot;
  const distance = scopeDistance(slot.scope, compiler.scope);
  const bufferIndex = slot.index;
  if (count === 1 && constants[0] !== null) {
    const text = constants[0];
    return (act) => {
      const slots = distance === 0 ? act.slots : activationAt(act, distance).slots;
      const out = slots[bufferIndex] + text;
      if (out.length > act.entry.maxOutputBytes) act.entry.budget.checkLength(out);
      slots[bufferIndex] = out;
    };
  }
  // No expression can append to this buffer while the parts are evaluated (macros, captures and content
  // arguments have their own), so the parts are concatenated locally and stored once.
  return (act) => {
    const entry = act.entry;
    const slots = distance === 0 ? act.slots : activationAt(act, distance).slots;
    let out = slots[bufferIndex];
    for (let k = 0; k < count; k++) {
      const text = constants[k];
      if (text !== null) out += text;
      else {
        const evaluate = evaluators[k] as Evaluate | null;
        let value: TemplateValue;
        if (evaluate !== null) value = evaluate(act);
        else {
          const name = names[k] as string;
          const runtime = entry.runtime;
          if (runtime.contextOrFrameLookup === originalContextOrFrameLookup) {
            for (let scope: Frame | null = entry.frame; scope; scope = scope.parent) {
              value = scope.variables[name];
              if (value !== undefined) break;
            }
            if (value === undefined) {
              const context = entry.context;
              const vars = context.ctx;
              const globals = context.env.globals;
              value = name in globals && !(name in vars) ? globals[name] : vars[name];
            }
          } else value = runtime.contextOrFrameLookup(entry.context, entry.frame, name);
        }
        if (value === undefined || value === null) value = "";
        else if (typeof value === "object") checkCoercion(entry.budget, value);
        if (entry.env.opts.autoescape && !(value instanceof SafeString)) value = escapeHtml(value.toString());
        out += value;
      }
    }
    if (out.length > entry.maxOutputBytes) entry.budget.checkLength(out);
    slots[bufferIndex] = out;
  };
}

/** One Output node part by part (with throwOnUndefined, which fused output leaves to this path). */
export function compileOutput(compiler: TemplateCompiler, node: NodeListNode, frame: SymbolFrame): Execute {
  const steps: Execute[] = [];
  const throwOnUndefined = compiler.options.throwOnUndefined;
  for (const child of node.children) {
    if (child instanceof TemplateData) {
      const text = (child as ValueNode).value;
      if (text) {
        const append = compiler.appender();
        steps.push((act) => append(act, text));
      }
      continue;
    }
    const evaluate = compileUncheckedExpression(compiler, child, frame);
    const append = compiler.appender();
    const slot = compiler.buffer as VarSlot;
    if (!throwOnUndefined && scopeDistance(slot.scope, compiler.scope) === 0) {
      // the common case, with the buffer append inlined
      const bufferIndex = slot.index;
      steps.push((act) => {
        let value = evaluate(act);
        const entry = act.entry;
        if (value === undefined || value === null) value = "";
        else if (typeof value === "object") checkCoercion(entry.budget, value);
        if (entry.env.opts.autoescape && !(value instanceof SafeString)) value = escapeHtml(value.toString());
        const slots = act.slots;
        const out = slots[bufferIndex] + value;
        if (out.length > entry.maxOutputBytes) entry.budget.checkLength(out);
        slots[bufferIndex] = out;
      });
      continue;
    }
    if (throwOnUndefined) {
      const lineno = node.lineno;
      const colno = node.colno;
      steps.push((act) => {
        let value: TemplateValue = act.entry.runtime.ensureDefined(evaluate(act), lineno, colno);
        value = value !== undefined && value !== null ? value : "";
        if (typeof value === "object") checkCoercion(act.entry.budget, value);
        if (act.entry.env.opts.autoescape && !(value instanceof SafeString)) value = escapeHtml(value.toString());
        append(act, value);
      });
    } else {
      steps.push((act) => {
        let value = evaluate(act);
        if (value === undefined || value === null) value = "";
        else if (typeof value === "object") checkCoercion(act.entry.budget, value);
        if (act.entry.env.opts.autoescape && !(value instanceof SafeString)) value = escapeHtml(value.toString());
        append(act, value);
      });
    }
  }
  return runInOrder(steps);
}
