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
  smallIntegerValue,
  toNumber,
} from "./numeric";
import {
  codePointLength,
  encodeForUri,
  LANGUAGE_TAG_RE,
  languageMatches,
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
import { regexMatches, replaceAll } from "./xpath-regex";

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
    const name = args[0] && variableName(args[0]);
    if (name === undefined) throw new ExpressionError("BOUND takes a variable");
    return booleanLiteral(bindings.has(name));
  },
  if: (args, evaluate) => {
    requireArity("IF", args, 3);
    const [condition, then, otherwise] = args as [Algebra.Expression, Algebra.Expression, Algebra.Expression];
    return evaluate(ebvOf(evaluate, condition) ? then : otherwise);
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

function nullary(name: string, fn: (ctx: ExpressionContext) => RDF.Term): Builtin {
  return (args, ctx) => {
    requireArity(name, args, 0);
    return fn(ctx);
  };
}

function unary(name: string, fn: (a: RDF.Term, ctx: ExpressionContext) => RDF.Term): Builtin {
  return (args, ctx) => {
    const [a] = args;
    if (args.length !== 1 || a === undefined) throw new ExpressionError(`${name} takes 1 argument`);
    return fn(a, ctx);
  };
}

function binary(name: string, fn: (a: RDF.Term, b: RDF.Term, ctx: ExpressionContext) => RDF.Term): Builtin {
  return (args, ctx) => {
    const [a, b] = args;
    if (args.length !== 2 || a === undefined || b === undefined) throw new ExpressionError(`${name} takes 2 arguments`);
    return fn(a, b, ctx);
  };
}

function numericResult(value: ReturnType<typeof requireNumeric>): RDF.Literal {
  return numericToLiteral(value);
}

function arithmeticBuiltin(operator: ArithmeticOperator): Builtin {
  return binary(operator, (a, b) => {
    if (operator !== "/") {
      // Fast path for small integers; falls back to exact arithmetic when the result leaves the safe range.
      const x = smallIntegerValue(a);
      const y = x === undefined ? undefined : smallIntegerValue(b);
      if (x !== undefined && y !== undefined) {
        const result = operator === "+" ? x + y : operator === "-" ? x - y : x * y;
        if (Number.isSafeInteger(result)) return integerLiteral(result === 0 ? 0 : result);
      }
    }
    return numericResult(arithmetic(operator, requireNumeric(a), requireNumeric(b)));
  });
}

function hashBuiltin(name: string, hash: (bytes: Uint8Array) => Uint8Array): Builtin {
  return unary(name, (a) => {
    const text = requireSimpleString(a).value;
    return stringLiteral(bytesToHex(hash(new TextEncoder().encode(text))));
  });
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

function regexArguments(
  textTerm: RDF.Term,
  patternTerm: RDF.Term,
  flagsTerm: RDF.Term | undefined,
): { text: RDF.Literal; pattern: string; flags: string } {
  const text = requireStringLiteral(textTerm);
  const pattern = requireSimpleString(patternTerm).value;
  const flags = flagsTerm === undefined ? "" : requireSimpleString(flagsTerm).value;
  return { text, pattern, flags };
}

const BUILTINS: Record<string, Builtin> = {
  "!": unary("!", (a) => {
    return booleanLiteral(!effectiveBooleanValue(a));
  }),
  uplus: unary("+", (a) => unaryPlus(a)),
  uminus: unary("-", (a) => unaryMinus(a)),
  "+": arithmeticBuiltin("+"),
  "-": (args) => {
    const [a, b] = args;
    if (a === undefined || args.length > 2) throw new ExpressionError("- takes 1 or 2 arguments");
    if (b === undefined) return unaryMinus(a);
    return numericResult(arithmetic("-", requireNumeric(a), requireNumeric(b)));
  },
  "*": arithmeticBuiltin("*"),
  "/": arithmeticBuiltin("/"),
  "=": binary("=", (a, b) => {
    return booleanLiteral(termsEqual(a, b));
  }),
  "!=": binary("!=", (a, b) => {
    return booleanLiteral(!termsEqual(a, b));
  }),
  "<": binary("<", (a, b) => {
    return booleanLiteral(lessThan(a, b));
  }),
  ">": binary(">", (a, b) => {
    return booleanLiteral(lessThan(b, a));
  }),
  "<=": binary("<=", (a, b) => {
    return booleanLiteral(lessOrEqual(a, b));
  }),
  ">=": binary(">=", (a, b) => {
    return booleanLiteral(lessOrEqual(b, a));
  }),
  sameterm: binary("sameTerm", (a, b) => {
    return booleanLiteral(sameTerm(a, b));
  }),
  isiri: unary("isIRI", (a) => {
    return booleanLiteral(a.termType === "NamedNode");
  }),
  isuri: unary("isURI", (a) => {
    return booleanLiteral(a.termType === "NamedNode");
  }),
  isblank: unary("isBlank", (a) => {
    return booleanLiteral(a.termType === "BlankNode");
  }),
  isliteral: unary("isLiteral", (a) => {
    return booleanLiteral(a.termType === "Literal");
  }),
  isnumeric: unary("isNumeric", (a) => {
    return booleanLiteral(numericValue(a) !== undefined);
  }),
  str: unary("STR", (a) => {
    const term = a;
    if (term.termType !== "Literal" && term.termType !== "NamedNode") throw new ExpressionError("STR of a blank node");
    return stringLiteral(term.value);
  }),
  lang: unary("LANG", (a) => {
    const term = a;
    if (term.termType !== "Literal") throw new ExpressionError("LANG of a non-literal");
    return stringLiteral(term.language);
  }),
  datatype: unary("DATATYPE", (a) => {
    const term = a;
    if (term.termType !== "Literal") throw new ExpressionError("DATATYPE of a non-literal");
    return namedNode(term.language ? RDF_LANG_STRING : datatypeOf(term));
  }),
  langmatches: binary("langMatches", (a, b) => {
    const tag = requireSimpleString(a).value;
    const range = requireSimpleString(b).value;
    return booleanLiteral(languageMatches(tag, range));
  }),
  iri: unary("IRI", (a, ctx) => iriBuiltin(a, ctx)),
  uri: unary("URI", (a, ctx) => iriBuiltin(a, ctx)),
  bnode: (args, ctx) => {
    requireArity("BNODE", args, 0, 1);
    const [label] = args;
    return label === undefined ? ctx.bnode() : ctx.bnode(requireSimpleString(label).value);
  },
  rand: nullary("RAND", (ctx) => {
    return numericToLiteral({ kind: "double", approx: ctx.random() });
  }),
  abs: unary("ABS", (a) => {
    return numericResult(abs(requireNumeric(a)));
  }),
  ceil: unary("CEIL", (a) => {
    return numericToLiteral(ceil(requireNumeric(a)), "bare");
  }),
  floor: unary("FLOOR", (a) => {
    return numericToLiteral(floor(requireNumeric(a)), "bare");
  }),
  round: unary("ROUND", (a) => {
    return numericToLiteral(round(requireNumeric(a)), "bare");
  }),
  concat: (args, ctx) => {
    const literals = args.map(requireStringLiteral);
    ctx.chargeString?.(literals.reduce((length, literal) => length + literal.value.length, 0));
    const language = literals[0]?.language;
    const sameLanguage =
      !!language && literals.every((literal) => literal.language.toLowerCase() === language.toLowerCase());
    return stringLiteral(literals.map((literal) => literal.value).join(""), sameLanguage ? language : undefined);
  },
  substr: (args, ctx) => {
    const [sourceTerm, startTerm, lengthTerm] = args;
    if (sourceTerm === undefined || startTerm === undefined || args.length > 3) {
      throw new ExpressionError("SUBSTR takes 2 or 3 arguments");
    }
    const source = requireStringLiteral(sourceTerm);
    const start = requireInteger(startTerm);
    const length = lengthTerm === undefined ? undefined : requireInteger(lengthTerm);
    const part = substring(source.value, start, length);
    ctx.chargeString?.(part.length);
    return sameKindString(source, part);
  },
  strlen: unary("STRLEN", (a) => {
    return integerLiteral(codePointLength(requireStringLiteral(a).value));
  }),
  replace: (args, ctx) => {
    const [textTerm, patternTerm, replacementTerm, flagsTerm] = args;
    if (textTerm === undefined || patternTerm === undefined || replacementTerm === undefined || args.length > 4) {
      throw new ExpressionError("REPLACE takes 3 or 4 arguments");
    }
    const { text, pattern, flags } = regexArguments(textTerm, patternTerm, flagsTerm);
    const replacement = requireSimpleString(replacementTerm).value;
    const replaced = replaceAll(text.value, pattern, replacement, flags, ctx.chargeWork);
    ctx.chargeString?.(replaced.length);
    return sameKindString(text, replaced);
  },
  regex: (args, ctx) => {
    const [textTerm, patternTerm, flagsTerm] = args;
    if (textTerm === undefined || patternTerm === undefined || args.length > 3) {
      throw new ExpressionError("REGEX takes 2 or 3 arguments");
    }
    const { text, pattern, flags } = regexArguments(textTerm, patternTerm, flagsTerm);
    return booleanLiteral(regexMatches(text.value, pattern, flags, ctx.chargeWork));
  },
  ucase: unary("UCASE", (a, ctx) => {
    const source = requireStringLiteral(a);
    ctx.chargeString?.(source.value.length);
    return sameKindString(source, source.value.toUpperCase());
  }),
  lcase: unary("LCASE", (a, ctx) => {
    const source = requireStringLiteral(a);
    ctx.chargeString?.(source.value.length);
    return sameKindString(source, source.value.toLowerCase());
  }),
  encode_for_uri: unary("ENCODE_FOR_URI", (a, ctx) => {
    const source = requireStringLiteral(a).value;
    // Percent-encoding at most triples the length: charged before the string is built.
    ctx.chargeString?.(source.length * 3);
    return stringLiteral(encodeForUri(source));
  }),
  contains: binary("CONTAINS", (first, second) => {
    const [a, b] = requireCompatible(first, second);
    return booleanLiteral(a.value.includes(b.value));
  }),
  strstarts: binary("STRSTARTS", (first, second) => {
    const [a, b] = requireCompatible(first, second);
    return booleanLiteral(a.value.startsWith(b.value));
  }),
  strends: binary("STRENDS", (first, second) => {
    const [a, b] = requireCompatible(first, second);
    return booleanLiteral(a.value.endsWith(b.value));
  }),
  strbefore: binary("STRBEFORE", (first, second) => {
    const [a, b] = requireCompatible(first, second);
    const index = a.value.indexOf(b.value);
    return index < 0 ? stringLiteral("") : sameKindString(a, a.value.slice(0, index));
  }),
  strafter: binary("STRAFTER", (first, second) => {
    const [a, b] = requireCompatible(first, second);
    const index = a.value.indexOf(b.value);
    return index < 0 ? stringLiteral("") : sameKindString(a, a.value.slice(index + b.value.length));
  }),
  year: unary("YEAR", (a) => {
    return integerLiteral(requireDateTime(a, true).year);
  }),
  month: unary("MONTH", (a) => {
    return integerLiteral(requireDateTime(a, true).month);
  }),
  day: unary("DAY", (a) => {
    return integerLiteral(requireDateTime(a, true).day);
  }),
  hours: unary("HOURS", (a) => {
    return integerLiteral(requireDateTime(a, false).hour);
  }),
  minutes: unary("MINUTES", (a) => {
    return integerLiteral(requireDateTime(a, false).minute);
  }),
  seconds: unary("SECONDS", (a) => {
    return numericToLiteral({ kind: "decimal", exact: requireDateTime(a, false).second }, "bare");
  }),
  timezone: unary("TIMEZONE", (a) => {
    const { timezone } = requireDateTime(a, true);
    if (timezone === undefined) throw new ExpressionError("TIMEZONE of a value without timezone");
    return typedLiteral(timezoneDuration(timezone), XSD.dayTimeDuration);
  }),
  tz: unary("TZ", (a) => {
    return stringLiteral(timezoneLexical(requireDateTime(a, true).timezone));
  }),
  now: nullary("NOW", (ctx) => {
    return typedLiteral(ctx.now.toISOString(), XSD.dateTime);
  }),
  uuid: nullary("UUID", (ctx) => {
    return namedNode(`urn:uuid:${ctx.uuid()}`);
  }),
  struuid: nullary("STRUUID", (ctx) => {
    return stringLiteral(ctx.uuid());
  }),
  md5: hashBuiltin("MD5", md5),
  sha1: hashBuiltin("SHA1", sha1),
  sha256: hashBuiltin("SHA256", sha256),
  sha384: hashBuiltin("SHA384", sha384),
  sha512: hashBuiltin("SHA512", sha512),
  strlang: binary("STRLANG", (a, b) => {
    const source = requireSimpleString(a);
    const language = requireSimpleString(b).value;
    if (!LANGUAGE_TAG_RE.test(language)) throw new ExpressionError("invalid language tag");
    return stringLiteral(source.value, language);
  }),
  strdt: binary("STRDT", (a, b) => {
    const source = requireSimpleString(a);
    const datatype = b;
    if (datatype.termType !== "NamedNode" || datatype.value === RDF_LANG_STRING) {
      throw new ExpressionError("STRDT needs a datatype IRI");
    }
    return typedLiteral(source.value, datatype.value);
  }),
};

const SPECIAL_FORM_MAP: ReadonlyMap<string, SpecialForm> = new Map(Object.entries(SPECIAL_FORMS));
const BUILTIN_MAP: ReadonlyMap<string, Builtin> = new Map(Object.entries(BUILTINS));
const lowerCaseCache = new Map<string, string>();

/** Operator names arrive in mixed case (BNODE, UMINUS, strlen); lower-case each distinct name once. */
function lowerCase(operator: string): string {
  let lower = lowerCaseCache.get(operator);
  if (lower === undefined) {
    lower = operator.toLowerCase();
    if (lowerCaseCache.size < 1024) lowerCaseCache.set(operator, lower);
  }
  return lower;
}

const PRIMITIVE_NUMERIC = new Set<string>([XSD.integer, XSD.decimal, XSD.float, XSD.double]);

/** Unary plus keeps a primitive numeric literal as it is (the W3C tests expect "3"^^xsd:float back). */
function unaryPlus(term: RDF.Term): RDF.Term {
  const value = requireNumeric(term);
  return term.termType === "Literal" && PRIMITIVE_NUMERIC.has(term.datatype.value) ? term : numericResult(value);
}

/** Unary minus flips the sign of a primitive numeric literal's lexical form, keeping its shape ("3" → "-3"). */
function unaryMinus(term: RDF.Term): RDF.Term {
  const value = requireNumeric(term);
  if (term.termType !== "Literal" || !PRIMITIVE_NUMERIC.has(term.datatype.value)) return numericResult(negate(value));
  const lexical = term.value;
  if (lexical === "NaN") return term;
  const negated = lexical.startsWith("-")
    ? lexical.slice(1)
    : `-${lexical.startsWith("+") ? lexical.slice(1) : lexical}`;
  return typedLiteral(negated, term.datatype.value);
}

function lessOrEqual(a: RDF.Term, b: RDF.Term): boolean {
  if (lessThan(a, b)) return true;
  return termsEqual(a, b);
}

function iriBuiltin(term: RDF.Term, ctx: ExpressionContext): RDF.Term {
  if (term.termType === "NamedNode") return term;
  if (!isSimpleString(term)) throw new ExpressionError("IRI takes an IRI or a simple literal");
  return namedNode(resolveIri(term.value, ctx.baseIRI));
}

/**
 * Evaluates a SPARQL expression for one solution. Throws ExpressionError for type errors and unbound
 * variables; the caller decides what an error means (FILTER: false, BIND: unbound, ...).
 */
export function evaluate(expression: Algebra.Expression, bindings: Bindings, ctx: ExpressionContext): RDF.Term {
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
      const name = lowerCase(operator);
      const special = SPECIAL_FORM_MAP.get(name);
      if (special) return special(args, (inner) => evaluate(inner, bindings, ctx), bindings, ctx);
      const builtin = BUILTIN_MAP.get(name);
      if (!builtin) throw new ExpressionError(`unknown operator ${operator}`);
      const values: RDF.Term[] = [];
      for (const arg of args) values.push(evaluate(arg, bindings, ctx));
      return builtin(values, ctx);
    }
    case "named": {
      const { name, args } = expression as Algebra.NamedExpression;
      if (isCastTarget(name.value)) {
        const [argument] = args;
        if (argument === undefined || args.length !== 1) throw new ExpressionError(`<${name.value}> takes 1 argument`);
        return castTo(name.value, evaluate(argument, bindings, ctx));
      }
      const extension = ctx.functions?.get(name.value);
      if (!extension) throw new ExpressionError(`unknown function <${name.value}>`);
      return extension(args.map((arg) => evaluate(arg, bindings, ctx)));
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
