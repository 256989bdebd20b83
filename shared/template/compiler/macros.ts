// Macros, `{% call %}` bodies (Caller) and `{% set %}…{% endset %}` captures: functions with their own buffer.
import nunjucksModules from "../nunjucks-modules.cjs";
import { Activation, type Evaluate, type Execute, type VarSlot } from "./activation";
import { compileExpression } from "./expressions";
import type { CaptureNode, DictNode, MacroNode, Runtime, SymbolNode } from "./nunjucks-types";
import { compileRegion, type SymbolFrame } from "./regions";
import { printsAsNativeCode } from "./sandbox";
import { nodeClasses, type TemplateCompiler } from "./template-compiler";

const runtimeModule: Runtime = nunjucksModules.runtime;
const { Frame } = runtimeModule;
const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Shared by Macro and Caller: a factory building the macro function in an activation. A Caller (`frame` given)
 * keeps the calling frame as parent; a macro starts from a fresh one.
 */
export function compileMacroFactory(
  compiler: TemplateCompiler,
  node: MacroNode,
  frame: SymbolFrame | undefined,
): Evaluate {
  const keepFrame = frame !== undefined;
  const positional: SymbolNode[] = [];
  let keywords: DictNode | null = null;
  node.args.children.forEach((arg, i) => {
    if (i === node.args.children.length - 1 && arg instanceof nodeClasses.Dict) keywords = arg as DictNode;
    else {
      compiler.assertType(arg, "Symbol");
      positional.push(arg as SymbolNode);
    }
  });
  const keywordPairs = (keywords as DictNode | null)?.children || [];
  const argNames = positional.map((arg) => arg.value);
  const kwargNames = keywordPairs.map((pair) => (pair.key as SymbolNode).value);
  for (const name of [...argNames, ...kwargNames]) compiler.deny(name);
  const macroFrame = keepFrame ? (frame as SymbolFrame).push(true) : new Frame<VarSlot>();
  const savedBuffer = compiler.buffer;
  const compiled = compiler.withFunction(() => {
    const argSlots = argNames.map((name) => {
      const slot = compiler.scope.allocate();
      macroFrame.set(name, slot);
      return slot.index;
    });
    const kwargsSlot = compiler.scope.allocate().index;
    const defaults = keywordPairs.map((pair) => ({
      name: (pair.key as SymbolNode).value,
      value: compileExpression(compiler, pair.value, macroFrame),
    }));
    const buffer: VarSlot = compiler.scope.allocate();
    compiler.buffer = buffer;
    const body = compileRegion(compiler, [node.body], macroFrame);
    return { argSlots, kwargsSlot, defaults, bufferSlot: buffer.index, body };
  });
  compiler.buffer = savedBuffer;
  const size = compiled.scope.size;
  const { argSlots, kwargsSlot, defaults, bufferSlot, body } = compiled.result;
  const argCount = argSlots.length;
  const defaultNames: string[] = defaults.map((d) => d.name);
  const defaultValues: Evaluate[] = defaults.map((d) => d.value);
  const defaultCount = defaultNames.length;
  const sandbox = compiler.options.sandbox;
  return (act) => {
    const entry = act.entry;
    const macro = runtimeModule.makeMacro(argNames, kwargNames, function (this: unknown) {
      // biome-ignore lint/complexity/noArguments: makeMacro applies the mapped argument list.
      const params = arguments;
      const inner = new Activation(size, act, entry, act.cb);
      const slots = inner.slots;
      for (let k = 0; k < argCount; k++) slots[argSlots[k] as number] = params[k];
      slots[kwargsSlot] = params[argCount];
      const budget = entry.budget;
      budget.step();
      budget.enter();
      try {
        const callerFrame = entry.frame;
        entry.frame = keepFrame ? entry.frame.push(true) : new entry.runtime.Frame();
        if (!slots[kwargsSlot]) slots[kwargsSlot] = {};
        const kwargs = slots[kwargsSlot];
        // frame.set(name, v) without resolveUp on a dot-free name is `frame.variables[name] = v`
        const vars = entry.frame.variables;
        if (hasOwn.call(kwargs, "caller")) vars.caller = kwargs.caller;
        for (let k = 0; k < argCount; k++) vars[argNames[k] as string] = slots[argSlots[k] as number];
        for (let k = 0; k < defaultCount; k++) {
          const name = defaultNames[k] as string;
          const frameVars = entry.frame.variables;
          const passed = slots[kwargsSlot];
          frameVars[name] = hasOwn.call(passed, name) ? passed[name] : (defaultValues[k] as Evaluate)(inner);
        }
        slots[bufferSlot] = "";
        body(inner);
        entry.frame = keepFrame ? entry.frame.pop() : callerFrame;
        return new entry.runtime.SafeString(slots[bufferSlot]);
      } finally {
        budget.leave();
      }
    });
    // an own toString (a cached shape transition, cheaper than binding or defineProperty per call block)
    if (sandbox) macro.toString = printsAsNativeCode;
    return macro;
  };
}

/** `{% macro name(…) %}`: bound in the frame, and at top level set and exported in the context. */
export function compileMacroStatement(compiler: TemplateCompiler, node: MacroNode, frame: SymbolFrame): Execute {
  const factory = compileMacroFactory(compiler, node, undefined);
  const name = node.name.value;
  compiler.deny(name);
  const slot = compiler.scope.allocate();
  frame.set(name, slot);
  const setSlot = compiler.setter(slot);
  if (frame.parent) {
    return (act) => {
      const macro = factory(act);
      setSlot(act, macro);
      act.entry.frame.set(name, macro);
    };
  }
  const exported = name.charAt(0) !== "_";
  return (act) => {
    const macro = factory(act);
    setSlot(act, macro);
    if (exported) act.entry.context.addExport(name);
    act.entry.context.setVariable(name, macro);
  };
}

/** `{% set x %}…{% endset %}` and `{% filter %}` bodies: the text a region outputs, as a value. */
export function compileCapture(compiler: TemplateCompiler, node: CaptureNode, frame: SymbolFrame): Evaluate {
  const compiled = compiler.withBufferedFunction((buffer) => ({
    bufferSlot: buffer.index,
    run: compileRegion(compiler, [node.body], frame),
  }));
  const size = compiled.scope.size;
  const { bufferSlot, run } = compiled.result;
  return (act) => {
    const inner = new Activation(size, act, act.entry, act.cb);
    inner.slots[bufferSlot] = "";
    run(inner);
    return inner.slots[bufferSlot];
  };
}
