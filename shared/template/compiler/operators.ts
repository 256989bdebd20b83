// Operator expressions. nunjucks' compiler emits operators as JavaScript text without parentheses of its own,
// so JavaScript's precedence re-associates them: the AST is flattened into the emitted tokens and parsed back.
import { checkCoercion } from "../memory-guard";
import type { Evaluate } from "./activation";
import { compileAtom } from "./expressions";
import type { AstNode, BinaryNode, CompareNode, IsNode, TemplateValue, UnaryNode } from "./nunjucks-types";
import type { SymbolFrame } from "./regions";
import { jsSyntaxError, type TemplateCompiler } from "./template-compiler";

/** Node types whose emitted JavaScript is an operator expression (see emitTokens). */
export const operatorTypes: ReadonlySet<string> = new Set([
  "Or",
  "And",
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Mod",
  "Concat",
  "Compare",
  "Not",
  "Neg",
  "Pos",
  "Is",
]);
/** nunjucks' binary and prefix operator nodes and the JavaScript operators its compiler emits for them. */
const binaryOperators: ReadonlyMap<string, string> = new Map([
  ["Or", "||"],
  ["And", "&&"],
  ["Add", "+"],
  ["Sub", "-"],
  ["Mul", "*"],
  ["Div", "/"],
  ["Mod", "%"],
]);
const prefixOperators: ReadonlyMap<string, string> = new Map([
  ["Not", "!"],
  ["Neg", "-"],
  ["Pos", "+"],
]);
const compareOperators: ReadonlySet<string> = new Set(["==", "===", "!=", "!==", "<", ">", "<=", ">="]);
/** JavaScript's binary operator precedence. */
const precedence: Readonly<Record<string, number>> = {
  "||": 3,
  "&&": 4,
  "==": 8,
  "!=": 8,
  "===": 8,
  "!==": 8,
  "<": 9,
  ">": 9,
  "<=": 9,
  ">=": 9,
  "+": 11,
  "-": 11,
  "*": 12,
  "/": 12,
  "%": 12,
};

/** A constant operand (the `""` of Concat, the `true` an `is` test is compared with). */
export interface ConstantNode extends AstNode {
  readonly typename: "__const";
  value: TemplateValue;
}
/** The call an `is` test emits: `env.getTest(name).call(context, left, …)`. */
export interface TestCallNode extends AstNode {
  readonly typename: "__isCall";
  test: IsNode;
}
const emptyString: ConstantNode = { typename: "__const", value: "", lineno: 0, colno: 0 };
const trueValue: ConstantNode = { typename: "__const", value: true, lineno: 0, colno: 0 };

type Token = { kind: "operand"; node: AstNode } | { kind: "binary"; op: string } | { kind: "prefix"; op: string };
interface TokenCursor {
  tokens: Token[];
  position: number;
}

/** An operator expression, re-associated with JavaScript precedence. */
export function compileOperators(compiler: TemplateCompiler, node: AstNode, frame: SymbolFrame): Evaluate {
  const tokens: Token[] = [];
  emitTokens(node, tokens);
  if (tokens.length === 1) return compileAtom(compiler, (tokens[0] as { node: AstNode }).node, frame);
  return parseBinary(compiler, { tokens, position: 0 }, 0, frame);
}

function parseUnary(compiler: TemplateCompiler, cursor: TokenCursor, frame: SymbolFrame): Evaluate {
  const token = cursor.tokens[cursor.position++] as Token;
  if (token.kind === "prefix") {
    const operand = parseUnary(compiler, cursor, frame);
    if (token.op === "!") return (act) => !operand(act);
    if (token.op === "-")
      return (act) => {
        const value = operand(act);
        if (isObject(value)) checkCoercion(act.entry.budget, value);
        return -value;
      };
    return (act) => {
      const value = operand(act);
      if (isObject(value)) checkCoercion(act.entry.budget, value);
      return +value;
    };
  }
  if (token.kind === "operand") return compileAtom(compiler, token.node, frame);
  throw jsSyntaxError(`Unexpected token '${token.op}'`);
}

function parseBinary(
  compiler: TemplateCompiler,
  cursor: TokenCursor,
  minPrecedence: number,
  frame: SymbolFrame,
): Evaluate {
  let left = parseUnary(compiler, cursor, frame);
  while (cursor.position < cursor.tokens.length) {
    const token = cursor.tokens[cursor.position] as Token;
    if (token.kind !== "binary") break;
    const tokenPrecedence = precedence[token.op] as number;
    if (tokenPrecedence < minPrecedence) break;
    cursor.position++;
    const right = parseBinary(compiler, cursor, tokenPrecedence + 1, frame);
    left = binaryOperation(token.op, left, right);
  }
  return left;
}

/** The tokens nunjucks' compiler writes for `node`; anything but an operator is one operand. */
function emitTokens(node: AstNode, out: Token[]): void {
  const binary = binaryOperators.get(node.typename);
  if (binary) {
    const { left, right } = node as BinaryNode;
    emitTokens(left, out);
    out.push({ kind: "binary", op: binary });
    emitTokens(right, out);
    return;
  }
  switch (node.typename) {
    case "Concat": {
      const { left, right } = node as BinaryNode;
      emitTokens(left, out);
      out.push({ kind: "binary", op: "+" }, { kind: "operand", node: emptyString }, { kind: "binary", op: "+" });
      emitTokens(right, out);
      return;
    }
    case "Compare": {
      const compare = node as CompareNode;
      emitTokens(compare.expr, out);
      for (const operand of compare.ops) {
        if (!compareOperators.has(operand.type)) throw jsSyntaxError("Unexpected identifier 'undefined'");
        out.push({ kind: "binary", op: operand.type });
        emitTokens(operand.expr, out);
      }
      return;
    }
    case "Not":
    case "Neg":
    case "Pos": {
      const op = prefixOperators.get(node.typename) as string;
      const last = out[out.length - 1];
      if (last && last.kind === "prefix" && last.op === op && op !== "!")
        throw jsSyntaxError("Invalid left-hand side expression in prefix operation");
      out.push({ kind: "prefix", op });
      emitTokens((node as UnaryNode).target, out);
      return;
    }
    case "Is": {
      const testCall: TestCallNode = {
        typename: "__isCall",
        test: node as IsNode,
        lineno: node.lineno,
        colno: node.colno,
      };
      out.push(
        { kind: "operand", node: testCall },
        { kind: "binary", op: "===" },
        { kind: "operand", node: trueValue },
      );
      return;
    }
    default:
      out.push({ kind: "operand", node });
  }
}

export const isObject = (value: unknown): boolean => typeof value === "object" && value !== null;

// Operators that turn their operands into primitives join an array first: its text is checked before.
function binaryOperation(op: string, left: Evaluate, right: Evaluate): Evaluate {
  switch (op) {
    case "||":
      return (act) => left(act) || right(act);
    case "&&":
      return (act) => left(act) && right(act);
    case "+":
      return (act) => {
        const x = left(act);
        const y = right(act);
        if (isObject(x) || isObject(y)) checkCoercion(act.entry.budget, x, y);
        const sum = x + y;
        if (typeof sum === "string" && sum.length > act.entry.maxOutputBytes) act.entry.budget.checkLength(sum);
        return sum;
      };
    case "-":
      return (act) => {
        const x = left(act);
        const y = right(act);
        if (isObject(x) || isObject(y)) checkCoercion(act.entry.budget, x, y);
        return x - y;
      };
    case "*":
      return (act) => {
        const x = left(act);
        const y = right(act);
        if (isObject(x) || isObject(y)) checkCoercion(act.entry.budget, x, y);
        return x * y;
      };
    case "/":
      return (act) => {
        const x = left(act);
        const y = right(act);
        if (isObject(x) || isObject(y)) checkCoercion(act.entry.budget, x, y);
        return x / y;
      };
    case "%":
      return (act) => {
        const x = left(act);
        const y = right(act);
        if (isObject(x) || isObject(y)) checkCoercion(act.entry.budget, x, y);
        return x % y;
      };
    case "==":
      return (act) => {
        const x = left(act);
        const y = right(act);
        if (isObject(x) || isObject(y)) checkCoercion(act.entry.budget, x, y);
        // biome-ignore lint/suspicious/noDoubleEquals: nunjucks emits JavaScript's loose equality.
        return x == y;
      };
    case "!=":
      return (act) => {
        const x = left(act);
        const y = right(act);
        if (isObject(x) || isObject(y)) checkCoercion(act.entry.budget, x, y);
        // biome-ignore lint/suspicious/noDoubleEquals: nunjucks emits JavaScript's loose equality.
        return x != y;
      };
    case "===":
      return (act) => left(act) === right(act);
    case "!==":
      return (act) => left(act) !== right(act);
    case "<":
      return (act) => {
        const x = left(act);
        const y = right(act);
        if (isObject(x) || isObject(y)) checkCoercion(act.entry.budget, x, y);
        return x < y;
      };
    case ">":
      return (act) => {
        const x = left(act);
        const y = right(act);
        if (isObject(x) || isObject(y)) checkCoercion(act.entry.budget, x, y);
        return x > y;
      };
    case "<=":
      return (act) => {
        const x = left(act);
        const y = right(act);
        if (isObject(x) || isObject(y)) checkCoercion(act.entry.budget, x, y);
        return x <= y;
      };
    case ">=":
      return (act) => {
        const x = left(act);
        const y = right(act);
        if (isObject(x) || isObject(y)) checkCoercion(act.entry.budget, x, y);
        return x >= y;
      };
    default:
      throw jsSyntaxError(`Unexpected token '${op}'`);
  }
}
