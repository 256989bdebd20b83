// Regions: the statements between a `{` of the generated code and its scope closers. An async point (include,
// import, extends, block, super, async filters and tags) ends a region: the rest runs in its callback.
import { Activation, type Execute, type VarSlot } from "./activation";
import { compileAsyncEach, compileFilterAsync, compileIfAsync } from "./async-statements";
import {
  compileBlock,
  compileExtends,
  compileFromImport,
  compileImport,
  compileInclude,
  compileSuper,
} from "./composition";
import { compileUncheckedExpression } from "./expressions";
import { compileCallExtension, compileCallExtensionAsync } from "./extensions";
import { compileFor } from "./loops";
import { compileMacroStatement } from "./macros";
import type {
  AstNode,
  BlockNode,
  CallExtensionNode,
  FilterNode,
  ForNode,
  Frame,
  FromImportNode,
  IfNode,
  ImportNode,
  IncludeNode,
  MacroNode,
  NodeCallback,
  NodeListNode,
  SetNode,
  SuperNode,
  SwitchNode,
  TemplateRefNode,
  TemplateValue,
  ValueNode,
} from "./nunjucks-types";
import { compileFusedOutput, compileOutput } from "./output";
import { compileIf, compileSet, compileSwitch } from "./statements";
import { expressionTypes, fail, jsSyntaxError, NEEDS_TRANSFORM, type TemplateCompiler } from "./template-compiler";

/** The compile-time frame: nunjucks' Frame mapping template names to the slots holding them. */
export type SymbolFrame = Frame<VarSlot>;

const asyncPointTypes = new Set([
  "FilterAsync",
  "IfAsync",
  "AsyncEach",
  "AsyncAll",
  "CallExtensionAsync",
  "Import",
  "FromImport",
  "Include",
  "Extends",
  "Block",
  "Super",
]);
/** Async nodes only transformer.transform produces: met in an untransformed AST, they abort to the exact path. */
const untransformedAsync = new Set(["FilterAsync", "IfAsync", "AsyncEach", "AsyncAll", "CallExtensionAsync"]);

/** Nested NodeLists spliced into one list, as the generated code runs them. */
export function flatten(list: AstNode[], out: AstNode[] = []): AstNode[] {
  for (const node of list) {
    if (node && node.typename === "NodeList") flatten((node as NodeListNode).children, out);
    else out.push(node);
  }
  return out;
}
export function hasAsyncPoint(children: AstNode[]): boolean {
  return flatten(children).some((node) => asyncPointTypes.has(node.typename));
}

/** A region; `tail` (compiled after it, in the innermost callback) runs at its end. */
export function compileRegion(
  compiler: TemplateCompiler,
  children: AstNode[],
  frame: SymbolFrame,
  tail?: () => Execute,
): Execute {
  return compileSequence(compiler, flatten(children), 0, frame, tail);
}

/** A body compiled without _withScopedSyntax: an async point there breaks the generated JavaScript. */
export function compileUnscoped(
  compiler: TemplateCompiler,
  children: AstNode[],
  frame: SymbolFrame,
  breakAfter = false,
): Execute {
  const flat = flatten(children);
  if (flat.some((node) => asyncPointTypes.has(node.typename)))
    throw jsSyntaxError(breakAfter ? "Illegal break statement" : "missing ) after argument list");
  return compileSequence(compiler, flat, 0, frame);
}

function compileSequence(
  compiler: TemplateCompiler,
  list: AstNode[],
  start: number,
  frame: SymbolFrame,
  tail?: () => Execute,
): Execute {
  const steps: Execute[] = [];
  for (let j = start; j < list.length; j++) {
    const node = list[j] as AstNode;
    if (asyncPointTypes.has(node.typename)) {
      steps.push(compileAsyncPoint(compiler, node, frame, () => compileSequence(compiler, list, j + 1, frame, tail)));
      return runInOrder(steps);
    }
    if (node.typename === "Output" && !compiler.options.throwOnUndefined) {
      // consecutive Output nodes become one closure appending every part in order
      const parts: AstNode[] = [];
      let k = j;
      while (k < list.length && (list[k] as AstNode).typename === "Output")
        parts.push(...(list[k++] as NodeListNode).children);
      j = k - 1;
      const fused = compileFusedOutput(compiler, parts, frame);
      if (fused) steps.push(fused);
      continue;
    }
    const step = compileStatement(compiler, node, frame);
    if (step !== null) steps.push(step);
  }
  if (tail) steps.push(tail());
  return runInOrder(steps);
}

/** A statement that is not an async point; null when it emits nothing. */
function compileStatement(compiler: TemplateCompiler, node: AstNode, frame: SymbolFrame): Execute | null {
  switch (node.typename) {
    case "Output":
      return compileOutput(compiler, node as NodeListNode, frame);
    case "Set":
      return compileSet(compiler, node as SetNode, frame);
    case "Switch":
      return compileSwitch(compiler, node as SwitchNode, frame);
    case "If":
      return compileIf(compiler, node as IfNode, frame);
    case "For":
      return compileFor(compiler, node as ForNode, frame);
    case "Macro":
      return compileMacroStatement(compiler, node as MacroNode, frame);
    case "CallExtension":
      return compileCallExtension(compiler, node as CallExtensionNode, frame);
    case "TemplateData": {
      const text = (node as ValueNode).value;
      if (!text) return null;
      const append = compiler.appender();
      return (act) => append(act, text);
    }
    default:
      if (expressionTypes.includes(node.typename)) {
        const evaluate = compileUncheckedExpression(compiler, node, frame);
        return (act) => {
          evaluate(act);
        };
      }
      return fail(`compile: Cannot compile node: ${node.typename}`, node.lineno, node.colno);
  }
}

function compileAsyncPoint(
  compiler: TemplateCompiler,
  node: AstNode,
  frame: SymbolFrame,
  rest: () => Execute,
): Execute {
  if (compiler.optimisticAsyncFilters && untransformedAsync.has(node.typename)) throw NEEDS_TRANSFORM;
  switch (node.typename) {
    case "FilterAsync":
      return compileFilterAsync(compiler, node as FilterNode, frame, rest);
    case "IfAsync":
      return compileIfAsync(compiler, node as IfNode, frame, rest);
    case "AsyncEach":
      return compileAsyncEach(compiler, node as ForNode, frame, false, rest);
    case "AsyncAll":
      return compileAsyncEach(compiler, node as ForNode, frame, true, rest);
    case "CallExtensionAsync":
      return compileCallExtensionAsync(compiler, node as CallExtensionNode, frame, rest);
    case "Import":
      return compileImport(compiler, node as ImportNode, frame, rest);
    case "FromImport":
      return compileFromImport(compiler, node as FromImportNode, frame, rest);
    case "Include":
      return compileInclude(compiler, node as IncludeNode, frame, rest);
    case "Extends":
      return compileExtends(compiler, node as TemplateRefNode, frame, rest);
    case "Block":
      return compileBlock(compiler, node as BlockNode, rest);
    case "Super":
      return compileSuper(compiler, node as SuperNode, frame, rest);
    default:
      return fail(`compile: Cannot compile node: ${node.typename}`, node.lineno, node.colno);
  }
}

/**
 * `function(err, res) { if (err) { cb(err); return; } …rest }`: the rest of the region runs in the callback,
 * a new function whose first slot holds `res` (`bindResult` names that slot in the frame, if given).
 */
export function compileCallback(
  compiler: TemplateCompiler,
  bindResult: ((slot: VarSlot) => void) | null,
  rest: () => Execute,
): (act: Activation) => NodeCallback {
  const { scope, result } = compiler.withFunction(() => {
    const slot = compiler.scope.allocate();
    if (bindResult) bindResult(slot);
    return { slot, run: rest() };
  });
  const size = scope.size;
  const resultIndex = result.slot.index;
  const run = result.run;
  return (act) => (err: unknown, res?: TemplateValue) => {
    if (err) {
      act.cb(err);
      return;
    }
    const inner = new Activation(size, act, act.entry, act.cb);
    inner.slots[resultIndex] = res;
    run(inner);
  };
}

/** The first slot of the current function: where a callback receives its result. */
export function callbackResultSlot(compiler: TemplateCompiler): VarSlot {
  return { scope: compiler.scope, index: 0 };
}

/** One closure running `steps` in order (unrolled for the short lists most regions are). */
export function runInOrder(steps: Execute[]): Execute {
  switch (steps.length) {
    case 0:
      return () => {};
    case 1:
      return steps[0] as Execute;
    case 2: {
      const [first, second] = steps as [Execute, Execute];
      return (act) => {
        first(act);
        second(act);
      };
    }
    case 3: {
      const [first, second, third] = steps as [Execute, Execute, Execute];
      return (act) => {
        first(act);
        second(act);
        third(act);
      };
    }
    default:
      return (act) => {
        for (let k = 0; k < steps.length; k++) (steps[k] as Execute)(act);
      };
  }
}
