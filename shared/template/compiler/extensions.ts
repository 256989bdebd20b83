// Custom tags of nunjucks extensions: `ext[prop](context, …args, …contentArgs)`, synchronous or with a callback.
import { Activation, type Evaluate, type Execute } from "./activation";
import { compileExpression } from "./expressions";
import type { AstNode, CallExtensionNode, NodeCallback, TemplateValue } from "./nunjucks-types";
import { callbackResultSlot, compileCallback, compileRegion, type SymbolFrame } from "./regions";
import { fail, nodeClasses, type TemplateCompiler } from "./template-compiler";

/** A content argument as the extension receives it: a function rendering the tag's body (null if absent). */
type ContentArgument = (cb?: NodeCallback) => string;

function compileContentArguments(
  compiler: TemplateCompiler,
  node: CallExtensionNode,
  frame: SymbolFrame,
): ((act: Activation) => ContentArgument | null)[] {
  return node.contentArgs.map((content: AstNode | null) => {
    if (!content) return () => null;
    const compiled = compiler.withBufferedFunction((buffer) => {
      const run = compileRegion(compiler, [content], frame, () => {
        const getOutput = compiler.getter(buffer);
        return (act) => act.cb(null, getOutput(act));
      });
      return { bufferSlot: buffer.index, run };
    });
    const size = compiled.scope.size;
    const { bufferSlot, run } = compiled.result;
    return (act: Activation) => (cb?: NodeCallback) => {
      if (!cb)
        cb = (err: unknown) => {
          if (err) throw err;
        };
      const inner = new Activation(size, act, act.entry, cb);
      inner.slots[bufferSlot] = "";
      run(inner);
      return inner.slots[bufferSlot];
    };
  });
}

function compileExtensionArguments(
  compiler: TemplateCompiler,
  node: CallExtensionNode,
  frame: SymbolFrame,
): Evaluate[] {
  const args = node.args;
  if (args && !(args instanceof nodeClasses.NodeList))
    fail("compileCallExtension: arguments must be a NodeList, use `parser.parseSignature`");
  return args ? args.children.map((child) => compileExpression(compiler, child, frame)) : [];
}

/** What an extension method is called with: the context, its arguments, then its content bodies. */
function extensionCallValues(
  act: Activation,
  args: readonly Evaluate[],
  content: readonly ((act: Activation) => ContentArgument | null)[],
): TemplateValue[] {
  const values: TemplateValue[] = [act.entry.context];
  for (const arg of args) values.push(arg(act));
  for (const body of content) values.push(body(act));
  return values;
}

export function compileCallExtension(compiler: TemplateCompiler, node: CallExtensionNode, frame: SymbolFrame): Execute {
  const autoescape = typeof node.autoescape === "boolean" ? node.autoescape : true;
  const extensionName = node.extName;
  const method = node.prop;
  const args = compileExtensionArguments(compiler, node, frame);
  const content = compileContentArguments(compiler, node, frame);
  const append = compiler.appender();
  return (act) => {
    const entry = act.entry;
    const extension = entry.env.getExtension(extensionName);
    const values = extensionCallValues(act, args, content);
    const result = (extension[method] as (...args: unknown[]) => unknown)(...values);
    append(act, entry.runtime.suppressValue(result, autoescape && entry.env.opts.autoescape));
  };
}

/** An extension taking a callback: its result is appended in the callback, where the region goes on. */
export function compileCallExtensionAsync(
  compiler: TemplateCompiler,
  node: CallExtensionNode,
  frame: SymbolFrame,
  rest: () => Execute,
): Execute {
  const autoescape = typeof node.autoescape === "boolean" ? node.autoescape : true;
  const extensionName = node.extName;
  const method = node.prop;
  const args = compileExtensionArguments(compiler, node, frame);
  const content = compileContentArguments(compiler, node, frame);
  const done = compileCallback(compiler, null, () => {
    const append = compiler.appender();
    const getResult = compiler.getter(callbackResultSlot(compiler));
    const run = rest();
    return (act) => {
      append(act, act.entry.runtime.suppressValue(getResult(act), autoescape && act.entry.env.opts.autoescape));
      run(act);
    };
  });
  return (act) => {
    const entry = act.entry;
    const extension = entry.env.getExtension(extensionName);
    const values = extensionCallValues(act, args, content);
    values.push(done(act));
    (extension[method] as (...args: unknown[]) => unknown)(...values);
  };
}
