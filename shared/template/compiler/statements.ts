// `set`, `switch` and `if`.
import type { Evaluate, Execute, VarSlot } from "./activation";
import { compileExpression, compileUncheckedExpression } from "./expressions";
import type { IfNode, SetNode, SwitchNode } from "./nunjucks-types";
import { compileRegion, compileUnscoped, type SymbolFrame } from "./regions";
import type { TemplateCompiler } from "./template-compiler";

/** `{% set a, b = value %}` or the block form `{% set a %}…{% endset %}` (a Capture body). */
export function compileSet(compiler: TemplateCompiler, node: SetNode, frame: SymbolFrame): Execute {
  const slots: VarSlot[] = [];
  const names: string[] = [];
  for (const target of node.targets) {
    const name = target.value;
    compiler.deny(name);
    let slot = frame.lookup(name);
    if (slot === null || slot === undefined) slot = compiler.scope.allocate();
    slots.push(slot);
    names.push(name);
  }
  const value = node.value
    ? compileExpression(compiler, node.value, frame)
    : compileUncheckedExpression(compiler, node.body, frame);
  const setters = slots.map((slot) => compiler.setter(slot));
  const getters = slots.map((slot) => compiler.getter(slot));
  return (act) => {
    const assigned = value(act);
    for (let k = setters.length - 1; k >= 0; k--) (setters[k] as (typeof setters)[number])(act, assigned);
    for (let k = 0; k < names.length; k++) {
      const name = names[k] as string;
      const current = (getters[k] as Evaluate)(act);
      const entry = act.entry;
      entry.frame.set(name, current, true);
      if (entry.frame.topLevel) entry.context.setVariable(name, current);
      if (name.charAt(0) !== "_") {
        if (entry.frame.topLevel) entry.context.addExport(name, current);
      }
    }
  };
}

/** `switch` as JavaScript runs it: from the first case equal (===) to the subject, falling through empty cases. */
export function compileSwitch(compiler: TemplateCompiler, node: SwitchNode, frame: SymbolFrame): Execute {
  const subject = compileUncheckedExpression(compiler, node.expr, frame);
  const cases = node.cases.map((branch) => {
    const breaks = branch.body.children.length > 0;
    return {
      test: compileUncheckedExpression(compiler, branch.cond, frame),
      body: compileUnscoped(compiler, branch.body.children, frame, breaks),
      breaks,
    };
  });
  const fallback = node.default ? compileUnscoped(compiler, [node.default], frame) : null;
  return (act) => {
    const value = subject(act);
    let start = -1;
    for (let k = 0; k < cases.length; k++) {
      if ((cases[k] as (typeof cases)[number]).test(act) === value) {
        start = k;
        break;
      }
    }
    if (start === -1) {
      if (fallback) fallback(act);
      return;
    }
    for (let k = start; k < cases.length; k++) {
      const branch = cases[k] as (typeof cases)[number];
      branch.body(act);
      if (branch.breaks) return;
    }
    if (fallback) fallback(act);
  };
}

export function compileIf(compiler: TemplateCompiler, node: IfNode, frame: SymbolFrame): Execute {
  const cond = compileExpression(compiler, node.cond, frame);
  const body = compileRegion(compiler, [node.body], frame);
  const otherwise = node.else_ ? compileRegion(compiler, [node.else_], frame) : null;
  return (act) => {
    if (cond(act)) body(act);
    else if (otherwise) otherwise(act);
  };
}
