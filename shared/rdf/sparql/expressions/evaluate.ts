import { md5, sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type * as RDF from "@rdfjs/types";
import type { Algebra } from "sparqlalgebrajs";
import { castTo, isCastTarget } from "./casts";
import { booleanValue, lessThan, sameTerm, termsEqual } from "./compare";
import type { Bindings, ExpressionContext } from "./context";
import { dateTimeValue, timezoneDuration, timezoneLexical } from "./datetime";
import { ExpressionError } from "./errors";
import { resolveIri } from "./iri";
import {
  type ArithmeticOperator,
  abs,
  arithmetic,
  ceil,
  floor,
  integerLiteral,
  isNumericDatatype,
  negate,
  numericToLiteral,
  numericValue,
  requireNumeric,
  round,
  toNumber,
} from "./numeric";
import {
  codePointLength,
  compileRegex,
  encodeForUri,
  LANGUAGE_TAG_RE,
  languageMatches,
  replaceAll,
  requireCompatible,
  requireSimpleString,
  requireStringLiteral,
  substring,
} from "./strings";
import {
  booleanLiteral,
  datatypeOf,
  FALSE,
  isSimpleString,
  namedNode,
  RDF_LANG_STRING,
  stringLiteral,
  TRUE,
  typedLiteral,
  XSD,
} from "./vocab";

/**
 * Effective boolean value (SPARQL 17.2.2). Throws ExpressionError for terms that have none
 * (IRIs, blank nodes, literals of other datatypes).
 */
export function effectiveBooleanValue(term: RDF.Term): boolean {
  if (term.termType !== "Literal") throw new ExpressionError("no effective boolean value for a non-literal");
  if (term.language) return term.value.length > 0;
  const datatype = datatypeOf(term);
  if (datatype === XSD.boolean) return booleanValue(term) ?? false;
  if (datatype === XSD.string) return term.value.length > 0;
  const numeric = numericValue(term);
  if (numeric) {
    const number = "exact" in numeric ? (numeric.exact.isZero() ? 0 : 1) : numeric.approx;
    return number !== 0 && !Number.isNaN(number);
  }
  // An ill-typed numeric literal has the EBV false.
  if (isNumericDatatype(datatype)) return false;
  throw new ExpressionError("no effective boolean value for this literal");
}

type Evaluate = (expression: Algebra.Expression) => RDF.Term;
type SpecialForm = (
  args: Algebra.Expression[],
  evaluate: Evaluate,
  bindings: Bindings,
  ctx: ExpressionContext,
) => RDF.Term;
type Builtin = (args: RDF.Term[], ctx: ExpressionContext) => RDF.Term;

function ebvOf(evaluate: Evaluate, expression: Algebra.Expression): boolean {
  return effectiveBooleanValue(evaluate(expression));
}

function requireArity(name: string, args: readonly unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) throw new ExpressionError(`${name} takes ${min}..${max} arguments`);
}

function variableName(expression: Algebra.Expression): string | undefined {
  const term = (expression as { term?: RDF.Term }).term;
  if (term?.termType === "Variable") return term.value;
  const variable = (expression as { variable?: RDF.Variable }).variable;
  return (expression.expressionType as string) === "variable" && variable ? variable.value : undefined;
}

/** SPARQL `IN`: true if some member is equal, an error if none is and some comparison erred. */
function memberOf(args: Algebra.Expression[], evaluate: Evaluate): boolean {
  const [first, ...rest] = args;
  if (!first) throw new ExpressionError("IN needs an operand");
  const needle = evaluate(first);
  let error: unknown;
  for (const member of rest) {
    try {
      if (termsEqual(needle, evaluate(member))) return true;
    } catch (caught) {
      if (!(caught instanceof ExpressionError)) throw caught;
      error = caught;
    }
  }
  if (error) throw error;
  return false;
}

const SPECIAL_FORMS: Record<string, SpecialForm> = {
  "||": (args, evaluate) => {
    requireArity("||", args, 2);
    let error: unknown;
    for (const arg of args) {
      try {
        if (ebvOf(evaluate, arg)) return TRUE;
      } catch (caught) {
        if (!(caught instanceof ExpressionError)) throw caught;
        error = caught;
      }
    }
    if (error) throw error;
    return FALSE;
  },
  "&&": (args, evaluate) => {
    requireArity("&&", args, 2);
    let error: unknown;
    for (const arg of args) {
      try {
        if (!ebvOf(evaluate, arg)) return FALSE;
      } catch (caught) {
        if (!(caught instanceof ExpressionError)) throw caught;
        error = caught;
      }
    }
    if (error) throw error;
    return TRUE;
  },
  bound: (args, _evaluate, bindings) => {
    requireArity("BOUND", args, 1);
    const name = variableName(args[0]!);
    if (name === undefined) throw new ExpressionError("BOUND takes a variable");
    return booleanLiteral(bindings.has(name));
  },
  if: (args, evaluate) => {
    requireArity("IF", args, 3);
    return evaluate(ebvOf(evaluate, args[0]!) ? args[1]! : args[2]!);
  },
  coalesce: (args, evaluate) => {
    for (const arg of args) {
      try {
        return evaluate(arg);
      } catch (caught) {
        if (!(caught instanceof ExpressionError)) throw caught;
      }
    }
    throw new ExpressionError("COALESCE: every argument is an error");
  },
  in: (args, evaluate) => booleanLiteral(memberOf(args, evaluate)),
  notin: (args, evaluate) => booleanLiteral(!memberOf(args, evaluate)),
};

function numericResult(value: ReturnType<typeof requireNumeric>): RDF.Literal {
  return numericToLiteral(value);
}

function arithmeticBuiltin(operator: ArithmeticOperator): Builtin {
  return (args) => {
    requireArity(operator, args, 2);
    return numericResult(arithmetic(operator, requireNumeric(args[0]!), requireNumeric(args[1]!)));
  };
}

function hashBuiltin(hash: (bytes: Uint8Array) => Uint8Array): Builtin {
  return (args) => {
    requireArity("hash", args, 1);
    const text = requireSimpleString(args[0]!).value;
    return stringLiteral(bytesToHex(hash(new TextEncoder().encode(text))));
  };
}

/** Result of string functions that keep the first argument's language tag or xsd:string type. */
function sameKindString(source: RDF.Literal, value: string): RDF.Literal {
  return stringLiteral(value, source.language || undefined);
}

function requireDateTime(term: RDF.Term, allowDate: boolean) {
  const value = dateTimeValue(term);
  if (!value || (!allowDate && value.kind !== "dateTime")) throw new ExpressionError("expected an xsd:dateTime");
  return value;
}

function requireInteger(term: RDF.Term): number {
  const value = requireNumeric(term);
  if (value.kind !== "integer") throw new ExpressionError("expected an xsd:integer");
  return toNumber(value);
}

function regexArguments(args: RDF.Term[], count: number): { text: RDF.Literal; pattern: string; flags: string } {
  const text = requireStringLiteral(args[0]!);
  const pattern = requireSimpleString(args[1]!).value;
  const flagsTerm = args[count];
  const flags = flagsTerm === undefined ? "" : requireSimpleString(flagsTerm).value;
  return { text, pattern, flags };
}

const BUILTINS: Record<string, Builtin> = {
  "!": (args) => {
    requireArity("!", args, 1);
    return booleanLiteral(!effectiveBooleanValue(args[0]!));
  },
  uplus: (args) => {
    requireArity("+", args, 1);
    return numericResult(requireNumeric(args[0]!));
  },
  uminus: (args) => {
    requireArity("-", args, 1);
    return numericResult(negate(requireNumeric(args[0]!)));
  },
  "+": arithmeticBuiltin("+"),
  "-": (args) => {
    requireArity("-", args, 1, 2);
    if (args.length === 1) return numericResult(negate(requireNumeric(args[0]!)));
    return numericResult(arithmetic("-", requireNumeric(args[0]!), requireNumeric(args[1]!)));
  },
  "*": arithmeticBuiltin("*"),
  "/": arithmeticBuiltin("/"),
  "=": (args) => {
    requireArity("=", args, 2);
    return booleanLiteral(termsEqual(args[0]!, args[1]!));
  },
  "!=": (args) => {
    requireArity("!=", args, 2);
    return booleanLiteral(!termsEqual(args[0]!, args[1]!));
  },
  "<": (args) => {
    requireArity("<", args, 2);
    return booleanLiteral(lessThan(args[0]!, args[1]!));
  },
  ">": (args) => {
    requireArity(">", args, 2);
    return booleanLiteral(lessThan(args[1]!, args[0]!));
  },
  "<=": (args) => {
    requireArity("<=", args, 2);
    return booleanLiteral(lessOrEqual(args[0]!, args[1]!));
  },
  ">=": (args) => {
    requireArity(">=", args, 2);
    return booleanLiteral(lessOrEqual(args[1]!, args[0]!));
  },
  sameterm: (args) => {
    requireArity("sameTerm", args, 2);
    return booleanLiteral(sameTerm(args[0]!, args[1]!));
  },
  isiri: (args) => {
    requireArity("isIRI", args, 1);
    return booleanLiteral(args[0]!.termType === "NamedNode");
  },
  isuri: (args) => {
    requireArity("isURI", args, 1);
    return booleanLiteral(args[0]!.termType === "NamedNode");
  },
  isblank: (args) => {
    requireArity("isBlank", args, 1);
    return booleanLiteral(args[0]!.termType === "BlankNode");
  },
  isliteral: (args) => {
    requireArity("isLiteral", args, 1);
    return booleanLiteral(args[0]!.termType === "Literal");
  },
  isnumeric: (args) => {
    requireArity("isNumeric", args, 1);
    return booleanLiteral(numericValue(args[0]!) !== undefined);
  },
  str: (args) => {
    requireArity("STR", args, 1);
    const term = args[0]!;
    if (term.termType !== "Literal" && term.termType !== "NamedNode") throw new ExpressionError("STR of a blank node");
    return stringLiteral(term.value);
  },
  lang: (args) => {
    requireArity("LANG", args, 1);
    const term = args[0]!;
    if (term.termType !== "Literal") throw new ExpressionError("LANG of a non-literal");
    return stringLiteral(term.language);
  },
  datatype: (args) => {
    requireArity("DATATYPE", args, 1);
    const term = args[0]!;
    if (term.termType !== "Literal") throw new ExpressionError("DATATYPE of a non-literal");
    return namedNode(term.language ? RDF_LANG_STRING : datatypeOf(term));
  },
  langmatches: (args) => {
    requireArity("langMatches", args, 2);
    const tag = requireSimpleString(args[0]!).value;
    const range = requireSimpleString(args[1]!).value;
    return booleanLiteral(languageMatches(tag, range));
  },
  iri: (args, ctx) => iriBuiltin(args, ctx),
  uri: (args, ctx) => iriBuiltin(args, ctx),
  bnode: (args, ctx) => {
    requireArity("BNODE", args, 0, 1);
    if (args.length === 0) return ctx.bnode();
    return ctx.bnode(requireSimpleString(args[0]!).value);
  },
  rand: (args, ctx) => {
    requireArity("RAND", args, 0);
    return numericToLiteral({ kind: "double", approx: ctx.random() });
  },
  abs: (args) => {
    requireArity("ABS", args, 1);
    return numericResult(abs(requireNumeric(args[0]!)));
  },
  ceil: (args) => {
    requireArity("CEIL", args, 1);
    return numericResult(ceil(requireNumeric(args[0]!)));
  },
  floor: (args) => {
    requireArity("FLOOR", args, 1);
    return numericResult(floor(requireNumeric(args[0]!)));
  },
  round: (args) => {
    requireArity("ROUND", args, 1);
    return numericResult(round(requireNumeric(args[0]!)));
  },
  concat: (args) => {
    const literals = args.map(requireStringLiteral);
    const language = literals[0]?.language.toLowerCase();
    const sameLanguage = !!language && literals.every((literal) => literal.language.toLowerCase() === language);
    return stringLiteral(
      literals.map((literal) => literal.value).join(""),
      sameLanguage ? literals[0]!.language : undefined,
    );
  },
  substr: (args) => {
    requireArity("SUBSTR", args, 2, 3);
    const source = requireStringLiteral(args[0]!);
    const start = requireInteger(args[1]!);
    const length = args[2] === undefined ? undefined : requireInteger(args[2]);
    return sameKindString(source, substring(source.value, start, length));
  },
  strlen: (args) => {
    requireArity("STRLEN", args, 1);
    return integerLiteral(codePointLength(requireStringLiteral(args[0]!).value));
  },
  replace: (args) => {
    requireArity("REPLACE", args, 3, 4);
    const { text, pattern, flags } = regexArguments([args[0]!, args[1]!, ...args.slice(3)], 2);
    const replacement = requireSimpleString(args[2]!).value;
    return sameKindString(text, replaceAll(text.value, pattern, replacement, flags));
  },
  regex: (args) => {
    requireArity("REGEX", args, 2, 3);
    const { text, pattern, flags } = regexArguments(args, 2);
    return booleanLiteral(compileRegex(pattern, flags).test(text.value));
  },
  ucase: (args) => {
    requireArity("UCASE", args, 1);
    const source = requireStringLiteral(args[0]!);
    return sameKindString(source, source.value.toUpperCase());
  },
  lcase: (args) => {
    requireArity("LCASE", args, 1);
    const source = requireStringLiteral(args[0]!);
    return sameKindString(source, source.value.toLowerCase());
  },
  encode_for_uri: (args) => {
    requireArity("ENCODE_FOR_URI", args, 1);
    return stringLiteral(encodeForUri(requireStringLiteral(args[0]!).value));
  },
  contains: (args) => {
    requireArity("CONTAINS", args, 2);
    const [a, b] = requireCompatible(args[0]!, args[1]!);
    return booleanLiteral(a.value.includes(b.value));
  },
  strstarts: (args) => {
    requireArity("STRSTARTS", args, 2);
    const [a, b] = requireCompatible(args[0]!, args[1]!);
    return booleanLiteral(a.value.startsWith(b.value));
  },
  strends: (args) => {
    requireArity("STRENDS", args, 2);
    const [a, b] = requireCompatible(args[0]!, args[1]!);
    return booleanLiteral(a.value.endsWith(b.value));
  },
  strbefore: (args) => {
    requireArity("STRBEFORE", args, 2);
    const [a, b] = requireCompatible(args[0]!, args[1]!);
    const index = a.value.indexOf(b.value);
    return index < 0 ? stringLiteral("") : sameKindString(a, a.value.slice(0, index));
  },
  strafter: (args) => {
    requireArity("STRAFTER", args, 2);
    const [a, b] = requireCompatible(args[0]!, args[1]!);
    const index = a.value.indexOf(b.value);
    return index < 0 ? stringLiteral("") : sameKindString(a, a.value.slice(index + b.value.length));
  },
  year: (args) => {
    requireArity("YEAR", args, 1);
    return integerLiteral(requireDateTime(args[0]!, true).year);
  },
  month: (args) => {
    requireArity("MONTH", args, 1);
    return integerLiteral(requireDateTime(args[0]!, true).month);
  },
  day: (args) => {
    requireArity("DAY", args, 1);
    return integerLiteral(requireDateTime(args[0]!, true).day);
  },
  hours: (args) => {
    requireArity("HOURS", args, 1);
    return integerLiteral(requireDateTime(args[0]!, false).hour);
  },
  minutes: (args) => {
    requireArity("MINUTES", args, 1);
    return integerLiteral(requireDateTime(args[0]!, false).minute);
  },
  seconds: (args) => {
    requireArity("SECONDS", args, 1);
    return numericResult({ kind: "decimal", exact: requireDateTime(args[0]!, false).second });
  },
  timezone: (args) => {
    requireArity("TIMEZONE", args, 1);
    const { timezone } = requireDateTime(args[0]!, true);
    if (timezone === undefined) throw new ExpressionError("TIMEZONE of a value without timezone");
    return typedLiteral(timezoneDuration(timezone), XSD.dayTimeDuration);
  },
  tz: (args) => {
    requireArity("TZ", args, 1);
    return stringLiteral(timezoneLexical(requireDateTime(args[0]!, true).timezone));
  },
  now: (args, ctx) => {
    requireArity("NOW", args, 0);
    return typedLiteral(ctx.now.toISOString(), XSD.dateTime);
  },
  uuid: (args, ctx) => {
    requireArity("UUID", args, 0);
    return namedNode(`urn:uuid:${ctx.uuid()}`);
  },
  struuid: (args, ctx) => {
    requireArity("STRUUID", args, 0);
    return stringLiteral(ctx.uuid());
  },
  md5: hashBuiltin(md5),
  sha1: hashBuiltin(sha1),
  sha256: hashBuiltin(sha256),
  sha384: hashBuiltin(sha384),
  sha512: hashBuiltin(sha512),
  strlang: (args) => {
    requireArity("STRLANG", args, 2);
    const source = requireSimpleString(args[0]!);
    const language = requireSimpleString(args[1]!).value;
    if (!LANGUAGE_TAG_RE.test(language)) throw new ExpressionError("invalid language tag");
    return stringLiteral(source.value, language);
  },
  strdt: (args) => {
    requireArity("STRDT", args, 2);
    const source = requireSimpleString(args[0]!);
    const datatype = args[1]!;
    if (datatype.termType !== "NamedNode" || datatype.value === RDF_LANG_STRING) {
      throw new ExpressionError("STRDT needs a datatype IRI");
    }
    return typedLiteral(source.value, datatype.value);
  },
};

function lessOrEqual(a: RDF.Term, b: RDF.Term): boolean {
  if (lessThan(a, b)) return true;
  return termsEqual(a, b);
}

function iriBuiltin(args: RDF.Term[], ctx: ExpressionContext): RDF.Term {
  requireArity("IRI", args, 1);
  const term = args[0]!;
  if (term.termType === "NamedNode") return term;
  if (!isSimpleString(term)) throw new ExpressionError("IRI takes an IRI or a simple literal");
  return namedNode(resolveIri(term.value, ctx.baseIRI));
}

/**
 * Evaluates a SPARQL expression for one solution. Throws ExpressionError for type errors and unbound
 * variables; the caller decides what an error means (FILTER: false, BIND: unbound, ...).
 */
export function evaluate(expression: Algebra.Expression, bindings: Bindings, ctx: ExpressionContext): RDF.Term {
  const recurse: Evaluate = (inner) => evaluate(inner, bindings, ctx);
  switch (expression.expressionType as string) {
    case "term": {
      const term = (expression as Algebra.TermExpression).term;
      if (term.termType !== "Variable") return term;
      const value = bindings.get(term.value);
      if (value === undefined) throw new ExpressionError(`unbound variable ?${term.value}`);
      return value;
    }
    case "variable": {
      const name = variableName(expression);
      const value = name === undefined ? undefined : bindings.get(name);
      if (value === undefined) throw new ExpressionError(`unbound variable ?${name}`);
      return value;
    }
    case "operator": {
      const { operator, args } = expression as Algebra.OperatorExpression;
      const name = operator.toLowerCase();
      const special = SPECIAL_FORMS[name];
      if (special) return special(args, recurse, bindings, ctx);
      const builtin = BUILTINS[name];
      if (!builtin) throw new ExpressionError(`unknown operator ${operator}`);
      return builtin(args.map(recurse), ctx);
    }
    case "named": {
      const { name, args } = expression as Algebra.NamedExpression;
      if (isCastTarget(name.value)) {
        requireArity(name.value, args, 1);
        return castTo(name.value, recurse(args[0]!));
      }
      const extension = ctx.functions?.get(name.value);
      if (!extension) throw new ExpressionError(`unknown function <${name.value}>`);
      return extension(args.map(recurse));
    }
    case "existence": {
      const { input, not } = expression as Algebra.ExistenceExpression;
      return booleanLiteral(ctx.exists(input, bindings) !== not);
    }
    case "aggregate":
      throw new ExpressionError("aggregate outside of a group");
    default:
      throw new ExpressionError(`cannot evaluate a ${expression.expressionType} expression`);
  }
}

/** Evaluates an expression to its effective boolean value; false on error, as FILTER does. */
export function evaluateFilter(expression: Algebra.Expression, bindings: Bindings, ctx: ExpressionContext): boolean {
  try {
    return effectiveBooleanValue(evaluate(expression, bindings, ctx));
  } catch (error) {
    if (error instanceof ExpressionError) return false;
    throw error;
  }
}

/** Evaluates an expression for BIND / SELECT expressions: undefined (unbound) on error. */
export function tryEvaluate(
  expression: Algebra.Expression,
  bindings: Bindings,
  ctx: ExpressionContext,
): RDF.Term | undefined {
  try {
    return evaluate(expression, bindings, ctx);
  } catch (error) {
    if (error instanceof ExpressionError) return undefined;
    throw error;
  }
}
