// Closure compiler: turns nunjucks' AST into a tree of closures that behave like the JavaScript text
// nunjucks' compiler.js would generate, without eval (workerd forbids it).
import nunjucksModules from "../nunjucks-modules.cjs";
import type { TemplateInstance } from "./activation";
import { FOUND_ASYNC, FOUND_BLOCK, liftSuper, scanTree } from "./ast-passes";
import type { RenderFunction, RootNode } from "./nunjucks-types";
import { type CompiledTemplate, compileTemplate } from "./render-functions";
import { type CompileOptions, TemplateCompiler } from "./template-compiler";

export { type PendingBudget, takePendingBudget } from "./composition";
export { concealSource, deniedKeys } from "./sandbox";
export type { CompileOptions } from "./template-compiler";

interface Parser {
  parse(source: string, extensions: unknown[], options: CompileOptions): RootNode;
}
interface Transformer {
  transform(ast: RootNode, asyncFilters: string[], name: string | undefined): RootNode;
}
const parser: Parser = nunjucksModules.parser;
const transformer: Transformer = nunjucksModules.transformer;

/** A nunjucks extension as far as compilation goes: it may rewrite the source first. */
interface Extension {
  preprocess?: (source: string) => string;
}

/** A compiled template; each nunjucks Template instantiates its own `root` and `b_<block>` functions. */
export interface Program {
  instantiate(name: string | undefined): Record<string, RenderFunction>;
}

/** Parses, transforms and closure-compiles a template source; the result is instantiated per Template. */
export function compileProgram(
  src: string,
  asyncFilters: string[],
  extensions: Extension[],
  name: string | undefined,
  options: CompileOptions,
): Program {
  const preprocessors = (extensions || [])
    .map((extension) => extension.preprocess)
    .filter((preprocess): preprocess is (source: string) => string => !!preprocess);
  const processed = preprocessors.reduce((source, preprocess) => preprocess(source), src);
  if (!extensions || extensions.length === 0) {
    // Optimistic path: compile the parsed AST directly, lifting super() per block; any async node, or any
    // error, falls back to the exact path below on a fresh parse (which then raises nunjucks' own error).
    const parsed = parser.parse(processed, extensions, options);
    const compiler = new TemplateCompiler(options);
    compiler.optimisticAsyncFilters = asyncFilters;
    let compiled: CompiledTemplate | null = null;
    try {
      compiled = compileTemplate(compiler, parsed);
    } catch {
      compiled = null;
    }
    if (compiled) return programOf(compiled);
  }
  const parsed = parser.parse(processed, extensions, options);
  // transformer.transform only matters for async filters/tags and super(); do liftSuper alone when that is all it would do
  const found = scanTree(parsed, asyncFilters);
  const ast =
    found & FOUND_ASYNC
      ? transformer.transform(parsed, asyncFilters, name)
      : found & FOUND_BLOCK
        ? liftSuper(parsed)
        : parsed;
  return programOf(compileTemplate(new TemplateCompiler(options), ast));
}

function programOf({ root, blocks }: CompiledTemplate): Program {
  return {
    instantiate(instanceName) {
      const instance: TemplateInstance = { name: instanceName, blocks: {} };
      const functions: Record<string, RenderFunction> = {};
      for (const [blockName, factory] of blocks) {
        const block = factory(instance);
        instance.blocks[blockName] = block;
        functions[`b_${blockName}`] = block;
      }
      functions.root = root(instance);
      return functions;
    },
  };
}
