// `a.b`, `a[k]` and `a[start:stop:step]`: runtime.memberLookup's semantics, with the sandbox's denied names,
// bound and measured methods, and string patterns on the linear regex engine.
import { TemplateSecurityError } from "../errors";
import type { Evaluate } from "./activation";
import { compileExpression } from "./expressions";
import type { LookupValNode, SliceNode, TemplateValue, ValueNode } from "./nunjucks-types";
import type { SymbolFrame } from "./regions";
import {
  deniedFunctionKeys,
  deniedKeys,
  linearPatternMethod,
  methodOf,
  originalMemberLookup,
  stringPatternMethodNames,
  stringPatternMethods,
} from "./sandbox";
import { nodeClasses, type TemplateCompiler } from "./template-compiler";

export function compileMemberLookup(compiler: TemplateCompiler, node: LookupValNode, frame: SymbolFrame): Evaluate {
  const target = compileExpression(compiler, node.target, frame);
  const sandbox = compiler.options.sandbox;
  if (node.val && node.val.typename === "Slice") {
    const { start, stop, step } = node.val as SliceNode;
    const parts = [start, stop, step].map((part) => compileExpression(compiler, part, frame));
    return (act) => {
      const obj = target(act);
      const values = parts.map((part) => part(act));
      return act.entry.runtime.memberLookup(obj, ...values);
    };
  }
  if (node.val instanceof nodeClasses.Literal) {
    const constantKey = (node.val as ValueNode).value;
    if (typeof constantKey === "string" || typeof constantKey === "number")
      return compileConstantMember(compiler, target, constantKey);
  }
  const key = compileExpression(compiler, node.val, frame);
  return (act) => {
    const obj = target(act);
    let k = key(act);
    const runtime = act.entry.runtime;
    if (sandbox) {
      if (typeof k !== "number") {
        k = typeof k === "symbol" ? k : String(k);
        if (deniedKeys.has(k)) throw new TemplateSecurityError(k);
        if (typeof obj === "function" && deniedFunctionKeys.has(k)) throw new TemplateSecurityError(k);
      }
    }
    if (obj === undefined || obj === null) return undefined;
    const value = obj[k];
    if (typeof value === "function" && stringPatternMethods.has(value))
      return linearPatternMethod(act.entry, obj, value, k, sandbox);
    if (typeof value === "function" && sandbox) return methodOf(act.entry, obj, k);
    // without the sandbox, runtime.memberLookup's wrapper (and its printed source) is nunjucks' own
    if (typeof value === "function" || runtime.memberLookup !== originalMemberLookup)
      return runtime.memberLookup(obj, k);
    return value;
  };
}

/** `a.b` and `a[0]`: the key is known at compile time. */
function compileConstantMember(compiler: TemplateCompiler, target: Evaluate, key: string | number): Evaluate {
  const sandbox = compiler.options.sandbox;
  if (sandbox && typeof key === "string") compiler.deny(key);
  const functionKeyDenied = sandbox && deniedFunctionKeys.has(String(key));
  const patternMethod = stringPatternMethodNames.has(String(key));
  return (act) => {
    const obj: TemplateValue = target(act);
    if (obj === undefined || obj === null) return undefined;
    if (functionKeyDenied && typeof obj === "function") throw new TemplateSecurityError(String(key));
    const value = obj[key];
    if (typeof value === "function") {
      if (patternMethod && stringPatternMethods.has(value))
        return linearPatternMethod(act.entry, obj, value, key, sandbox);
      return sandbox ? methodOf(act.entry, obj, key) : act.entry.runtime.memberLookup(obj, key);
    }
    if (act.entry.runtime.memberLookup !== originalMemberLookup) return act.entry.runtime.memberLookup(obj, key);
    return value;
  };
}
