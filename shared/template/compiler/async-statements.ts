// Statements transformer.transform makes asynchronous: async filters, `if` and `for` around async points
// (IfAsync, AsyncEach) and `asyncAll`. Each continues the region in a callback.
import { Activation, type Evaluate, type Execute, type VarSlot } from "./activation";
import { compileExpression, compileUncheckedExpression } from "./expressions";
import { setLoopVariables } from "./loops";
import type { FilterNode, ForNode, IfNode, SymbolListNode, SymbolNode, TemplateValue } from "./nunjucks-types";
import { compileCallback, compileRegion, compileUnscoped, runInOrder, type SymbolFrame } from "./regions";
import { nodeClasses, type TemplateCompiler } from "./template-compiler";

/** `value | asyncFilter(args)`, lifted by the transformer: the result is bound to `node.symbol` in the callback. */
export function compileFilterAsync(
  compiler: TemplateCompiler,
  node: FilterNode,
  frame: SymbolFrame,
  rest: () => Execute,
): Execute {
  compiler.assertType(node.name, "Symbol");
  const name = node.name.value;
  compiler.deny(name);
  const args = node.args.children.map((child) => compileUncheckedExpression(compiler, child, frame));
  const symbol = (node.symbol as SymbolNode).value;
  const done = compileCallback(compiler, (slot) => frame.set(symbol, slot), rest);
  return (act) => {
    const filter = act.entry.env.getFilter(name);
    const values: TemplateValue[] = args.map((arg) => arg(act));
    values.push(done(act));
    filter.apply(act.entry.context, values);
  };
}

/** `(function(cb) { if … { body; cb() } else { else; cb() } })(function(err) { if (err) …; rest })`. */
export function compileIfAsync(
  compiler: TemplateCompiler,
  node: IfNode,
  frame: SymbolFrame,
  rest: () => Execute,
): Execute {
  const cond = compileExpression(compiler, node.cond, frame);
  const branches = compiler.withFunction(() => {
    const callsBack = (): Execute => (act) => act.cb();
    const body = compileRegion(compiler, [node.body], frame, callsBack);
    const otherwise = node.else_
      ? compileRegion(compiler, [node.else_], frame, callsBack)
      : (act: Activation) => act.cb();
    return { body, otherwise };
  });
  const size = branches.scope.size;
  const { body, otherwise } = branches.result;
  const continuation = compiler.withFunction(() => {
    compiler.scope.allocate();
    return rest();
  });
  const continuationSize = continuation.scope.size;
  const run = continuation.result;
  return (act) => {
    const after = (err?: unknown) => {
      if (err) {
        act.cb(err);
        return;
      }
      run(new Activation(continuationSize, act, act.entry, act.cb));
    };
    const inner = new Activation(size, act, act.entry, after);
    if (cond(inner)) body(inner);
    else otherwise(inner);
  };
}

/**
 * AsyncEach (`parallel` false: one item after the other) and AsyncAll (`parallel`: every item at once, each with
 * its own buffer, joined in order): the body is `function(name…, i, len, next)`, then the completion callback runs
 * the else branch, pops the frame and goes on with the region.
 */
export function compileAsyncEach(
  compiler: TemplateCompiler,
  node: ForNode,
  outerFrame: SymbolFrame,
  parallel: boolean,
  rest: () => Execute,
): Execute {
  const arraySlotRef = compiler.scope.allocate();
  const frame = outerFrame.push();
  const array = compileExpression(compiler, node.arr, frame);
  const destructures = node.name instanceof nodeClasses.Array;
  const names: string[] = destructures
    ? (node.name as SymbolListNode).children.map((child) => child.value)
    : [(node.name as SymbolNode).value];
  for (const name of names) compiler.deny(name);
  const dimensions = destructures ? names.length : 1;
  const iteration = compiler.withFunction(() => {
    const nameSlots = names.map((name) => ({ name, slot: compiler.scope.allocate() }));
    const indexSlot = compiler.scope.allocate();
    const lengthSlot = compiler.scope.allocate();
    const nextSlot = compiler.scope.allocate();
    for (const { name, slot } of nameSlots) frame.set(name, slot);
    let buffer: VarSlot | null = null;
    const savedBuffer = compiler.buffer;
    if (parallel) {
      buffer = compiler.scope.allocate();
      compiler.buffer = buffer;
    }
    const bufferSlot = buffer ? buffer.index : -1;
    const run = compileRegion(compiler, [node.body], frame, () => {
      const getIndex = compiler.getter(indexSlot);
      const getNext = compiler.getter(nextSlot);
      const getBuffer = buffer ? compiler.getter(buffer) : null;
      return (act) => {
        if (getBuffer) getNext(act)(getIndex(act), getBuffer(act));
        else getNext(act)(getIndex(act));
      };
    });
    compiler.buffer = savedBuffer;
    return {
      nameSlots: nameSlots.map(({ slot }) => slot.index),
      indexSlot: indexSlot.index,
      lengthSlot: lengthSlot.index,
      nextSlot: nextSlot.index,
      run,
      bufferSlot,
    };
  });
  const iterationSize = iteration.scope.size;
  const { nameSlots, indexSlot, lengthSlot, nextSlot, run, bufferSlot } = iteration.result;
  const getArray = compiler.getter(arraySlotRef);
  const done = compileCallback(compiler, null, () => {
    const steps: Execute[] = [];
    if (parallel) {
      const append = compiler.appender();
      const getOutput: Evaluate = compiler.getter({ scope: compiler.scope, index: 0 });
      steps.push((act) => append(act, getOutput(act)));
    }
    if (node.else_) {
      const otherwise = compileUnscoped(compiler, [node.else_], frame);
      const getArrayHere = compiler.getter(arraySlotRef);
      steps.push((act) => {
        if (!getArrayHere(act).length) otherwise(act);
      });
    }
    steps.push((act) => {
      act.entry.frame = act.entry.frame.pop();
    });
    steps.push(rest());
    return runInOrder(steps);
  });
  const arraySlot = arraySlotRef.index;
  const nameCount = nameSlots.length;
  return (act) => {
    act.entry.frame = act.entry.frame.push();
    act.slots[arraySlot] = act.entry.runtime.fromIterator(array(act));
    const iterate = (...args: TemplateValue[]) => {
      act.entry.budget.loop();
      const inner = new Activation(iterationSize, act, act.entry, act.cb);
      for (let k = 0; k < nameCount; k++) inner.slots[nameSlots[k] as number] = args[k];
      inner.slots[indexSlot] = args[dimensions];
      inner.slots[lengthSlot] = args[dimensions + 1];
      inner.slots[nextSlot] = args[dimensions + 2];
      if (bufferSlot >= 0) inner.slots[bufferSlot] = "";
      for (let k = 0; k < nameCount; k++) act.entry.frame.set(names[k] as string, args[k]);
      setLoopVariables(inner, args[dimensions], args[dimensions + 1]);
      run(inner);
    };
    const runtime = act.entry.runtime;
    (parallel ? runtime.asyncAll : runtime.asyncEach)(getArray(act), dimensions, iterate, done(act));
  };
}
