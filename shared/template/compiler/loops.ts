// `{% for %}` over arrays (one name or several, destructured) and objects (key, value), with `loop.*`.
import nunjucksModules from "../nunjucks-modules.cjs";
import type { Activation, Execute } from "./activation";
import { compileExpression } from "./expressions";
import type { ForNode, SymbolListNode, SymbolNode, TemplateValue } from "./nunjucks-types";
import { compileRegion, compileUnscoped, type SymbolFrame } from "./regions";
import { nodeClasses, type TemplateCompiler } from "./template-compiler";

const lib: { isArray(value: unknown): boolean; keys(obj: object): string[] } = nunjucksModules.lib;

/** The seven `frame.set("loop.x", …)` of _emitLoopBindings, without re-splitting the names. */
export function setLoopVariables(act: Activation, index: number, length: number): void {
  const vars = act.entry.frame.variables;
  let loop = vars.loop as Record<string, unknown> | undefined;
  if (!loop) loop = vars.loop = {};
  loop.index = index + 1;
  loop.index0 = index;
  loop.revindex = length - index;
  loop.revindex0 = length - index - 1;
  loop.first = index === 0;
  loop.last = index === length - 1;
  loop.length = length;
}

export function compileFor(compiler: TemplateCompiler, node: ForNode, outerFrame: SymbolFrame): Execute {
  // the generated code's `i`, `len` and array variables
  const indexSlot = compiler.scope.allocate().index;
  const lengthSlot = compiler.scope.allocate();
  const arraySlot = compiler.scope.allocate().index;
  const frame = outerFrame.push();
  const array = compileExpression(compiler, node.arr, frame);
  const getLength = compiler.getter(lengthSlot);
  const lengthIndex = lengthSlot.index;
  const loop =
    node.name instanceof nodeClasses.Array
      ? compileDestructuringLoop(compiler, node, node.name as SymbolListNode, frame, {
          indexSlot,
          lengthSlot: lengthIndex,
          arraySlot,
        })
      : compileArrayLoop(compiler, node, node.name as SymbolNode, frame, {
          indexSlot,
          lengthSlot: lengthIndex,
          arraySlot,
        });
  const otherwise = node.else_ ? compileUnscoped(compiler, [node.else_], frame) : null;
  return (act) => {
    act.entry.frame = act.entry.frame.push();
    const slots = act.slots;
    slots[arraySlot] = array(act);
    if (slots[arraySlot]) {
      slots[arraySlot] = act.entry.runtime.fromIterator(slots[arraySlot]);
      loop(act);
    }
    if (otherwise && !getLength(act)) otherwise(act);
    act.entry.frame = act.entry.frame.pop();
  };
}

interface LoopSlots {
  indexSlot: number;
  lengthSlot: number;
  arraySlot: number;
}

/** `for x in arr`. */
function compileArrayLoop(
  compiler: TemplateCompiler,
  node: ForNode,
  target: SymbolNode,
  frame: SymbolFrame,
  { indexSlot, lengthSlot, arraySlot }: LoopSlots,
): Execute {
  compiler.deny(target.value);
  const valueSlotRef = compiler.scope.allocate();
  frame.set(target.value, valueSlotRef);
  const body = compileRegion(compiler, [node.body], frame);
  const name = target.value;
  const valueSlot = valueSlotRef.index;
  return (act) => {
    const slots = act.slots;
    const arr = slots[arraySlot];
    const budget = act.entry.budget;
    slots[lengthSlot] = arr.length;
    for (slots[indexSlot] = 0; slots[indexSlot] < arr.length; slots[indexSlot]++) {
      budget.loop();
      const i = slots[indexSlot];
      slots[valueSlot] = arr[i];
      act.entry.frame.variables[name] = slots[valueSlot];
      setLoopVariables(act, i, slots[lengthSlot]);
      body(act);
    }
  };
}

/**
 * `for a, b in arr_or_obj`: arrays of tuples are destructured into every name, objects give key and value.
 * The generated code has a body for each, compiled twice.
 */
function compileDestructuringLoop(
  compiler: TemplateCompiler,
  node: ForNode,
  targets: SymbolListNode,
  frame: SymbolFrame,
  { indexSlot, lengthSlot, arraySlot }: LoopSlots,
): Execute {
  const tupleSlots = targets.children.map((child) => {
    compiler.deny(child.value);
    const slot = compiler.scope.allocate();
    frame.set(child.value, slot);
    return slot.index;
  });
  const arrayBody = compileRegion(compiler, [node.body], frame);
  const key = targets.children[0] as SymbolNode;
  const value = targets.children[1] as SymbolNode;
  const keySlotRef = compiler.scope.allocate();
  const valueSlotRef = compiler.scope.allocate();
  frame.set(key.value, keySlotRef);
  frame.set(value.value, valueSlotRef);
  const objectBody = compileRegion(compiler, [node.body], frame);
  const keyName = key.value;
  const valueName = value.value;
  const keySlot = keySlotRef.index;
  const valueSlot = valueSlotRef.index;
  const nameCount = tupleSlots.length;
  return (act) => {
    const slots = act.slots;
    const arr: TemplateValue = slots[arraySlot];
    const budget = act.entry.budget;
    if (lib.isArray(arr)) {
      slots[lengthSlot] = arr.length;
      for (slots[indexSlot] = 0; slots[indexSlot] < arr.length; slots[indexSlot]++) {
        budget.loop();
        const i = slots[indexSlot];
        for (let u = 0; u < nameCount; u++) {
          slots[tupleSlots[u] as number] = arr[i][u];
          // nunjucks 3.2.4 sets the name `[object Object]` here (it passes the node, not its value)
          act.entry.frame.set("[object Object]", arr[i][u]);
        }
        setLoopVariables(act, i, slots[lengthSlot]);
        arrayBody(act);
      }
    } else {
      slots[indexSlot] = -1;
      slots[lengthSlot] = lib.keys(arr).length;
      for (const k in arr) {
        budget.loop();
        slots[keySlot] = k;
        slots[indexSlot]++;
        slots[valueSlot] = arr[k];
        act.entry.frame.set(keyName, slots[keySlot]);
        act.entry.frame.set(valueName, slots[valueSlot]);
        setLoopVariables(act, slots[indexSlot], slots[lengthSlot]);
        objectBody(act);
      }
    }
  };
}
