// Passes over the parsed AST before compilation: what transformer.transform would act on, and its liftSuper
// (the only part of it a template without async filters or tags needs), done in place.
import type {
  AstNode,
  BlockNode,
  CallExtensionNode,
  ClassNode,
  FunCallNode,
  NodeListNode,
  SymbolNode,
} from "./nunjucks-types";
import { nodeClasses } from "./template-compiler";

const { Node, NodeList, CallExtension, FunCall, Block } = nodeClasses;

/** node.fields per node class (nunjucks defines some as getters returning a fresh array). */
const fieldsByClass = new Map<unknown, readonly string[]>();
function fieldsOf(node: ClassNode): readonly string[] {
  const nodeClass = node.constructor;
  let fields = fieldsByClass.get(nodeClass);
  if (!fields) {
    fields = node.fields;
    fieldsByClass.set(nodeClass, fields);
  }
  return fields;
}
/** A child of a node by field name. */
function field(node: AstNode, name: string): unknown {
  return (node as unknown as Record<string, unknown>)[name];
}

export const FOUND_ASYNC = 1;
export const FOUND_BLOCK = 2;

/** What transformer.transform would act on: async filters, async extensions and tags (FOUND_ASYNC), blocks (FOUND_BLOCK). */
export function scanTree(node: unknown, asyncFilters: string[]): number {
  if (!(node instanceof Node)) return 0;
  const type = node.typename;
  if (
    type === "CallExtensionAsync" ||
    type === "IfAsync" ||
    type === "AsyncEach" ||
    type === "AsyncAll" ||
    type === "FilterAsync"
  )
    return FOUND_ASYNC;
  if (
    type === "Filter" &&
    asyncFilters.length &&
    asyncFilters.indexOf((node as unknown as { name?: { value?: string } }).name?.value as string) !== -1
  )
    return FOUND_ASYNC;
  let found = type === "Block" ? FOUND_BLOCK : 0;
  if (node instanceof NodeList) {
    for (const child of (node as NodeListNode).children) found |= scanTree(child, asyncFilters);
  } else if (node instanceof CallExtension) {
    found |= scanTree((node as CallExtensionNode).args, asyncFilters);
    for (const content of (node as CallExtensionNode).contentArgs) found |= scanTree(content, asyncFilters);
  } else for (const name of fieldsOf(node)) found |= scanTree(field(node, name), asyncFilters);
  return found;
}

let holeCounter = 0;

/** transformer.liftSuper for one block: `super()` calls become a symbol a Super node at the block's start binds. */
export function liftSuperInBlock(block: BlockNode): void {
  const symbol = `hole_${holeCounter++}`;
  let hasSuper = false;
  block.body = replaceSuper(block.body, symbol, () => {
    hasSuper = true;
  }) as NodeListNode;
  if (hasSuper)
    block.body.children.unshift(new nodeClasses.Super(0, 0, block.name, new nodeClasses.Symbol(0, 0, symbol)));
}

/** transformer.js' liftSuper, in place: the same traversal (Node fields, NodeList children, CallExtension args). */
export function liftSuper<T extends AstNode>(ast: T): T {
  forEachNode(ast, (node) => {
    if (node instanceof Block) liftSuperInBlock(node as BlockNode);
  });
  return ast;
}

function forEachNode(node: unknown, visit: (node: AstNode) => void): void {
  if (!(node instanceof Node)) return;
  visit(node);
  if (node instanceof NodeList) for (const child of (node as NodeListNode).children) forEachNode(child, visit);
  else if (node instanceof CallExtension) {
    forEachNode((node as CallExtensionNode).args, visit);
    for (const content of (node as CallExtensionNode).contentArgs) forEachNode(content, visit);
  } else for (const name of fieldsOf(node)) forEachNode(field(node, name), visit);
}

function replaceSuper(node: unknown, symbol: string, found: () => void): unknown {
  if (!(node instanceof Node)) return node;
  if (node instanceof FunCall && ((node as FunCallNode).name as SymbolNode).value === "super") {
    found();
    return new nodeClasses.Symbol(node.lineno, node.colno, symbol);
  }
  if (node instanceof NodeList) {
    const children = (node as NodeListNode).children;
    for (let i = 0; i < children.length; i++) children[i] = replaceSuper(children[i], symbol, found) as AstNode;
  } else if (node instanceof CallExtension) {
    const call = node as CallExtensionNode;
    call.args = replaceSuper(call.args, symbol, found) as NodeListNode | null;
    for (let i = 0; i < call.contentArgs.length; i++)
      call.contentArgs[i] = replaceSuper(call.contentArgs[i], symbol, found) as AstNode | null;
  } else
    for (const name of fieldsOf(node))
      (node as unknown as Record<string, unknown>)[name] = replaceSuper(field(node, name), symbol, found);
  return node;
}
