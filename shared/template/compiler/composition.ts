// Templates composed of templates: `import`, `from … import`, `include`, `extends`, `block` and `super()`. Each is
// an async point: nunjucks' callback API, with the rest of the region in the callback.
import type { RenderBudget } from "../budget";
import { Activation, type Evaluate, type Execute, type VarSlot } from "./activation";
import { compileExpression } from "./expressions";
import type {
  BlockNode,
  FromImportNode,
  ImportNode,
  IncludeNode,
  NodeCallback,
  PairNode,
  RenderFunction,
  SuperNode,
  SymbolNode,
  Template,
  TemplateRefNode,
  TemplateValue,
} from "./nunjucks-types";
import { callbackResultSlot, compileCallback, type SymbolFrame } from "./regions";
import { nodeClasses, type TemplateCompiler } from "./template-compiler";

const hasOwn = Object.prototype.hasOwnProperty;

/** The render budget an include or import hands to the template it renders; read synchronously at its entry. */
export interface PendingBudget {
  budget: RenderBudget;
  includeDepth: number;
}
let pendingBudget: PendingBudget | null = null;
/** Takes (and clears) the budget an include or import is handing over. */
export function takePendingBudget(): PendingBudget | null {
  const pending = pendingBudget;
  pendingBudget = null;
  return pending;
}

/** Runs `call` (which renders another template) with the render's budget pending, one include level deeper. */
function withBudget(act: Activation, call: () => void): void {
  const context = act.entry.context;
  const budget: RenderBudget | undefined = context.kgenBudget ?? undefined;
  if (!budget) {
    call();
    return;
  }
  const depth = (context.kgenIncludeDepth ?? 0) + 1;
  if (depth > budget.limits.maxIncludeDepth) budget.fail("includeDepth", budget.limits.maxIncludeDepth);
  pendingBudget = { budget, includeDepth: depth };
  try {
    call();
  } finally {
    pendingBudget = null;
  }
}

/** The template-name expression of _compileGetTemplate (the flags are passed by each caller at run time). */
function compileTemplateName(compiler: TemplateCompiler, node: TemplateRefNode, frame: SymbolFrame): Evaluate {
  return compileExpression(compiler, node.template, frame);
}

/**
 * The shape `import` and `from … import` share: getTemplate callback → getExported callback → `body`,
 * whose first slot holds the exported names (`bindExports` names that slot in the frame, if given).
 */
function compileWithExports(
  compiler: TemplateCompiler,
  node: ImportNode | FromImportNode,
  frame: SymbolFrame,
  bindExports: ((slot: VarSlot) => void) | null,
  body: () => Execute,
): Execute {
  const templateName = compileTemplateName(compiler, node, frame);
  const withContext = node.withContext;
  const loaded = compileCallback(compiler, null, () => {
    const getTemplate = compiler.getter(callbackResultSlot(compiler));
    const exported = compileCallback(compiler, bindExports, body);
    return (act) => {
      const template: Template = getTemplate(act);
      withBudget(act, () => {
        if (withContext) template.getExported(act.entry.context.getVariables(), act.entry.frame, exported(act));
        else template.getExported(exported(act));
      });
    };
  });
  return (act) => {
    act.entry.env.getTemplate(templateName(act), false, act.entry.instance.name, false, loaded(act));
  };
}

/** `{% import "t" as name %}`. */
export function compileImport(
  compiler: TemplateCompiler,
  node: ImportNode,
  frame: SymbolFrame,
  rest: () => Execute,
): Execute {
  const target = node.target.value;
  compiler.deny(target);
  const topLevel = !frame.parent;
  return compileWithExports(
    compiler,
    node,
    frame,
    (slot) => frame.set(target, slot),
    () => {
      const getExports = compiler.getter(callbackResultSlot(compiler));
      const run = rest();
      return (act) => {
        const exports = getExports(act);
        if (topLevel) act.entry.context.setVariable(target, exports);
        else act.entry.frame.set(target, exports);
        run(act);
      };
    },
  );
}

/** `{% from "t" import a, b as c %}`: a missing name fails the render through the callback. */
export function compileFromImport(
  compiler: TemplateCompiler,
  node: FromImportNode,
  frame: SymbolFrame,
  rest: () => Execute,
): Execute {
  return compileWithExports(compiler, node, frame, null, () => {
    const getExports = compiler.getter(callbackResultSlot(compiler));
    const bindings: { name: string; alias: string; slot: VarSlot }[] = [];
    for (const nameNode of node.names.children) {
      let name: string;
      let alias: string;
      if (nameNode instanceof nodeClasses.Pair) {
        name = ((nameNode as PairNode).key as SymbolNode).value;
        alias = ((nameNode as PairNode).value as SymbolNode).value;
      } else {
        name = (nameNode as SymbolNode).value;
        alias = name;
      }
      compiler.deny(name);
      compiler.deny(alias);
      const slot = compiler.scope.allocate();
      frame.set(alias, slot);
      bindings.push({ name, alias, slot });
    }
    const topLevel = !frame.parent;
    const run = rest();
    return (act) => {
      const exports = getExports(act);
      for (const binding of bindings) {
        if (hasOwn.call(exports, binding.name)) act.slots[binding.slot.index] = exports[binding.name];
        else {
          act.cb(new Error(`cannot import '${binding.name}'`));
          return;
        }
        if (topLevel) act.entry.context.setVariable(binding.alias, act.slots[binding.slot.index]);
        else act.entry.frame.set(binding.alias, act.slots[binding.slot.index]);
      }
      run(act);
    };
  });
}

/** `{% include %}`: getTemplate, render with the current variables and frame, append, as nunjucks' waterfall. */
export function compileInclude(
  compiler: TemplateCompiler,
  node: IncludeNode,
  frame: SymbolFrame,
  rest: () => Execute,
): Execute {
  const templateName = compileTemplateName(compiler, node, frame);
  const ignoreMissing = !!node.ignoreMissing;
  const append = compiler.appender();
  const { scope, result: run } = compiler.withFunction(() => rest());
  const size = scope.size;
  return (act) => {
    const entry = act.entry;
    const tasks = [
      (callback: NodeCallback) => {
        entry.env.getTemplate(
          templateName(act),
          false,
          entry.instance.name,
          ignoreMissing,
          (err: unknown, template?: TemplateValue) => {
            if (err) {
              act.cb(err);
              return;
            }
            callback(null, template);
          },
        );
      },
      (template: Template, callback: NodeCallback) => {
        withBudget(act, () =>
          template.render(entry.context.getVariables(), entry.frame, (err: unknown, output?: TemplateValue) => {
            if (err) {
              act.cb(err);
              return;
            }
            callback(null, output);
          }),
        );
      },
      (output: TemplateValue, callback: NodeCallback) => {
        append(act, output);
        callback(null);
      },
    ];
    entry.env.waterfall(tasks, () => {
      run(new Activation(size, act, entry, act.cb));
    });
  };
}

/** `{% extends %}`: the parent's blocks join the context; root renders the parent at its end. */
export function compileExtends(
  compiler: TemplateCompiler,
  node: TemplateRefNode,
  frame: SymbolFrame,
  rest: () => Execute,
): Execute {
  const templateName = compileTemplateName(compiler, node, frame);
  const loaded = compileCallback(compiler, null, () => {
    const getTemplate = compiler.getter(callbackResultSlot(compiler));
    const run = rest();
    return (act) => {
      const parent: Template = getTemplate(act);
      act.entry.parentTemplate = parent;
      for (const name in parent.blocks) act.entry.context.addBlock(name, parent.blocks[name] as RenderFunction);
      run(act);
    };
  });
  return (act) => {
    act.entry.env.getTemplate(templateName(act), true, act.entry.instance.name, false, loaded(act));
  };
}

/** A block renders nothing in root once a parent template is known: the parent renders it. */
function noopBlock(_env: unknown, _context: unknown, _frame: unknown, _runtime: unknown, cb: NodeCallback) {
  cb("");
}

/** `{% block %}` where it stands: the context's (possibly overriding) block function, output appended. */
export function compileBlock(compiler: TemplateCompiler, node: BlockNode, rest: () => Execute): Execute {
  compiler.sawBlock = true;
  const name = node.name.value;
  const inBlock = compiler.inBlock;
  const rendered = compileCallback(compiler, null, () => {
    const append = compiler.appender();
    const getOutput = compiler.getter(callbackResultSlot(compiler));
    const run = rest();
    return (act) => {
      append(act, getOutput(act));
      run(act);
    };
  });
  return (act) => {
    const entry = act.entry;
    const block = !inBlock && entry.parentTemplate ? noopBlock : entry.context.getBlock(name);
    block(entry.env, entry.context, entry.frame, entry.runtime, rendered(act));
  };
}

/** `super()`, lifted by liftSuper to the start of its block: the parent block's output, marked safe. */
export function compileSuper(
  compiler: TemplateCompiler,
  node: SuperNode,
  frame: SymbolFrame,
  rest: () => Execute,
): Execute {
  const name = node.blockName.value;
  const symbol = node.symbol.value;
  const rendered = compileCallback(
    compiler,
    (slot) => frame.set(symbol, slot),
    () => {
      const slot = callbackResultSlot(compiler);
      const getOutput = compiler.getter(slot);
      const setOutput = compiler.setter(slot);
      const run = rest();
      return (act) => {
        setOutput(act, act.entry.runtime.markSafe(getOutput(act)));
        run(act);
      };
    },
  );
  return (act) => {
    const entry = act.entry;
    entry.context.getSuper(entry.env, name, entry.instance.blocks[name], entry.frame, entry.runtime, rendered(act));
  };
}
