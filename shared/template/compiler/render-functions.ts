// The functions nunjucks calls: `root` and one `b_<name>` per block, each with try/catch, the call-depth
// budget, its output buffer in slot 0 and the generated tail (render the parent template, or call back).
import nunjucksModules from "../nunjucks-modules.cjs";
import { type Evaluate, type Execute, entryActivation, type TemplateInstance, type VarSlot } from "./activation";
import { liftSuperInBlock } from "./ast-passes";
import type { AstNode, BlockNode, RenderFunction, RootNode, Runtime } from "./nunjucks-types";
import { compileRegion, hasAsyncPoint } from "./regions";
import { nodeClasses, type TemplateCompiler } from "./template-compiler";

const runtimeModule: Runtime = nunjucksModules.runtime;
const { Frame } = runtimeModule;

/** Builds a render function for one Template instance (block identity matters for `super`). */
export type RenderFunctionFactory = (instance: TemplateInstance) => RenderFunction;
export interface CompiledTemplate {
  root: RenderFunctionFactory;
  blocks: [string, RenderFunctionFactory][];
}

/** One root or block function body: its region, and whether the tail runs inline (no async point at top level). */
function compileEntryBody(
  compiler: TemplateCompiler,
  children: AstNode[],
  tail: (getOutput: Evaluate) => Execute,
): { size: number; run: Execute; inlineTail: boolean } {
  const frame = new Frame<VarSlot>();
  const { scope, result } = compiler.withFunction(() => {
    const output = compiler.scope.allocate();
    compiler.buffer = output;
    // without a top-level async point the final callback runs inline in the entry function (no tail closure)
    if (!hasAsyncPoint(children)) return { run: compileRegion(compiler, children, frame), inlineTail: true };
    const run = compileRegion(compiler, children, frame, () => tail(compiler.getter(output)));
    return { run, inlineTail: false };
  });
  return { size: scope.size, ...result };
}

export function compileTemplate(compiler: TemplateCompiler, node: RootNode): CompiledTemplate {
  const rootBody = compileEntryBody(compiler, node.children, (getOutput) => (act) => {
    const entry = act.entry;
    if (entry.parentTemplate)
      entry.parentTemplate.rootRenderFunc(entry.env, entry.context, entry.frame, entry.runtime, act.cb);
    else act.cb(null, getOutput(act));
  });
  const root = renderFunction(rootBody.size, rootBody.run, node.lineno, node.colno, false, rootBody.inlineTail);
  compiler.inBlock = true;
  const blockNames: string[] = [];
  const blocks: [string, RenderFunctionFactory][] = [];
  const optimistic = compiler.optimisticAsyncFilters !== null;
  for (const block of optimistic && !compiler.sawBlock ? [] : node.findAll<BlockNode>(nodeClasses.Block)) {
    // untransformed AST: transformer.liftSuper for this block now (same pre-order as its walk)
    if (optimistic) liftSuperInBlock(block);
    const name = block.name.value;
    if (blockNames.indexOf(name) !== -1) throw new Error(`Block "${name}" defined more than once.`);
    blockNames.push(name);
    const body = compileEntryBody(compiler, [block.body], (getOutput) => (act) => act.cb(null, getOutput(act)));
    blocks.push([name, renderFunction(body.size, body.run, block.lineno, block.colno, true, body.inlineTail)]);
  }
  return { root, blocks };
}

function renderFunction(
  size: number,
  run: Execute,
  lineno: number,
  colno: number,
  isBlock: boolean,
  inlineTail: boolean,
): RenderFunctionFactory {
  return (instance) => (env, context, frame, runtime, cb) => {
    const entry = entryActivation(size, cb, env, context, frame, runtime, instance, lineno, colno);
    const budget = entry.budget;
    let entered = false;
    try {
      budget.enter();
      entered = true;
      if (isBlock) entry.frame = frame.push(true);
      entry.slots[0] = "";
      run(entry);
      if (inlineTail) {
        // the generated tail: `if (parentTemplate) parentTemplate.rootRenderFunc(…) else cb(null, output)`
        if (!isBlock && entry.parentTemplate)
          entry.parentTemplate.rootRenderFunc(entry.env, entry.context, entry.frame, entry.runtime, cb);
        else cb(null, entry.slots[0]);
      }
    } catch (e) {
      if (entered) {
        entered = false;
        budget.depth--;
      }
      cb(runtime.handleError(e, entry.lineno, entry.colno));
    }
    if (entered) budget.depth--;
  };
}
