import type * as RDF from "@rdfjs/types";
import { compareDateTime, type DateTimeValue, dateTimeValue } from "./datetime";
import { ExpressionError } from "./errors";
import { compareNumeric, Exact, isNumericDatatype, type NumericValue, numericValue, shortExactValue } from "./numeric";
import { datatypeOf, XSD } from "./vocab";

/** Literal categories: values in one category are comparable with `<`. */
type Category = "numeric" | "dateTime" | "date" | "boolean" | "string" | "langString" | "other" | "invalid";

const CATEGORY_ORDER: Record<Category, number> = {
  numeric: 0,
  dateTime: 1,
  date: 2,
  boolean: 3,
  string: 4,
  langString: 4,
  other: 6,
  invalid: 7,
};

export function booleanValue(term: RDF.Term): boolean | undefined {
  if (term.termType !== "Literal" || term.language || term.datatype.value !== XSD.boolean) return undefined;
  switch (term.value) {
    case "true":
    case "1":
      return true;
    case "false":
    case "0":
      return false;
    default:
      return undefined;
  }
}

/** A literal's category with its parsed value, so each literal is parsed once per comparison. */
type Classified =
  | { category: "numeric"; numeric: NumericValue; small?: undefined }
  | { category: "numeric"; small: number; numeric?: undefined }
  | { category: "dateTime" | "date"; dateTime: DateTimeValue }
  | { category: "boolean"; boolean: boolean }
  | { category: "string" | "langString" | "other" | "invalid" };

// Sorting compares each term many times: remember the parsed value of literals that are costly to parse.
const classifiedCache = new WeakMap<RDF.Literal, Classified>();
const CHEAP_DATATYPES = new Set<string>([XSD.string, XSD.integer, XSD.double, XSD.float, XSD.boolean]);

function classify(literal: RDF.Literal): Classified {
  const small = shortExactValue(literal);
  if (small !== undefined) return { category: "numeric", small };
  if (literal.language) return { category: "langString" };
  const datatype = literal.datatype.value;
  if (CHEAP_DATATYPES.has(datatype)) return classifyUncached(literal, datatype);
  let classified = classifiedCache.get(literal);
  if (classified === undefined) {
    classified = classifyUncached(literal, datatype);
    classifiedCache.set(literal, classified);
  }
  return classified;
}

function classifyUncached(literal: RDF.Literal, datatype: string): Classified {
  if (datatype === XSD.string) return { category: "string" };
  if (isNumericDatatype(datatype)) {
    const numeric = numericValue(literal);
    return numeric ? { category: "numeric", numeric } : { category: "invalid" };
  }
  if (datatype === XSD.boolean) {
    const boolean = booleanValue(literal);
    return boolean === undefined ? { category: "invalid" } : { category: "boolean", boolean };
  }
  if (datatype === XSD.dateTime || datatype === XSD.date) {
    const dateTime = dateTimeValue(literal);
    if (!dateTime) return { category: "invalid" };
    return { category: datatype === XSD.dateTime ? "dateTime" : "date", dateTime };
  }
  return { category: "other" };
}

function numericOf(x: { numeric: NumericValue } | { small: number }): NumericValue {
  return "numeric" in x && x.numeric
    ? x.numeric
    : { kind: "integer", exact: new Exact((x as { small: number }).small) };
}

function compareNumericClassified(
  x: Extract<Classified, { category: "numeric" }>,
  y: Extract<Classified, { category: "numeric" }>,
): number | undefined {
  const a = x.small ?? (x.numeric && "approx" in x.numeric && y.small !== undefined ? x.numeric.approx : undefined);
  const b = y.small ?? (y.numeric && "approx" in y.numeric && x.small !== undefined ? y.numeric.approx : undefined);
  if (a !== undefined && b !== undefined) {
    // A short decimal promoted to float compares as a float; otherwise plain numbers compare exactly.
    const float = x.numeric?.kind === "float" || y.numeric?.kind === "float";
    const left = float && x.small !== undefined ? Math.fround(a) : a;
    const right = float && y.small !== undefined ? Math.fround(b) : b;
    if (Number.isNaN(left) || Number.isNaN(right)) return undefined;
    return left < right ? -1 : left > right ? 1 : 0;
  }
  return compareNumeric(numericOf(x), numericOf(y));
}

/** Compares strings by Unicode code point (JavaScript's `<` compares UTF-16 code units). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xSurrogate = x >= 0xd800 && x <= 0xdfff;
      const ySurrogate = y >= 0xd800 && y <= 0xdfff;
      if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** sameTerm: identical RDF terms (language tags compared case-insensitively). */
export function sameTerm(a: RDF.Term, b: RDF.Term): boolean {
  if (a.termType !== b.termType || a.value !== b.value) return false;
  if (a.termType === "Literal" && b.termType === "Literal") {
    return a.language.toLowerCase() === b.language.toLowerCase() && datatypeOf(a) === datatypeOf(b);
  }
  return true;
}

/**
 * The SPARQL `=` operator: value equality for numerics, strings, booleans and date/times, RDFterm-equal
 * otherwise. Throws ExpressionError when equality cannot be decided (ill-typed or unknown literals).
 */
export function termsEqual(a: RDF.Term, b: RDF.Term): boolean {
  if (a.termType !== "Literal" || b.termType !== "Literal") return sameTerm(a, b);
  const x = classify(a);
  const y = classify(b);
  if (x.category === "numeric" && y.category === "numeric") return compareNumericClassified(x, y) === 0;
  if (x.category === "boolean" && y.category === "boolean") return x.boolean === y.boolean;
  if ("dateTime" in x && "dateTime" in y && x.category === y.category) {
    const order = compareDateTime(x.dateTime, y.dateTime);
    if (order === undefined) throw new ExpressionError("indeterminate date/time comparison");
    return order === 0;
  }
  if (x.category === "string" && y.category === "string") return a.value === b.value;
  if (sameTerm(a, b)) return true;
  // A language-tagged string never equals a literal without that tag, whatever its datatype (W3C open-eq-08).
  if (x.category === "langString" || y.category === "langString") return false;
  if (x.category === "other" || x.category === "invalid" || y.category === "other" || y.category === "invalid") {
    throw new ExpressionError("cannot compare literals of unknown or ill-typed datatypes");
  }
  return false;
}

/** The SPARQL `<` operator on two terms; throws ExpressionError when the operands are not comparable. */
export function lessThan(a: RDF.Term, b: RDF.Term): boolean {
  if (a.termType !== "Literal" || b.termType !== "Literal") throw new ExpressionError("< compares literals only");
  const order = orderClassified(a, classify(a), b, classify(b));
  if (order === null) throw new ExpressionError("operands are not comparable with <");
  return order !== undefined && order < 0;
}

/**
 * Value order of two literals: a number; undefined when the comparison is false both ways (NaN); null
 * when the operands are not comparable.
 */
function orderClassified(a: RDF.Literal, x: Classified, b: RDF.Literal, y: Classified): number | undefined | null {
  if (x.category === "numeric" && y.category === "numeric") return compareNumericClassified(x, y);
  if (x.category === "boolean" && y.category === "boolean") return Number(x.boolean) - Number(y.boolean);
  if ("dateTime" in x && "dateTime" in y && x.category === y.category) {
    return compareDateTime(x.dateTime, y.dateTime) ?? null;
  }
  if (x.category === "string" && y.category === "string") return compareCodePoints(a.value, b.value);
  // An extension (SPARQL 17.3.1): strings with the same language tag compare by their text.
  if (x.category === "langString" && y.category === "langString") {
    return a.language.toLowerCase() === b.language.toLowerCase() ? compareCodePoints(a.value, b.value) : null;
  }
  return null;
}

const TERM_TYPE_ORDER: Record<string, number> = { BlankNode: 1, NamedNode: 2, Literal: 3 };

function literalOrder(a: RDF.Literal, b: RDF.Literal): number {
  const x = classify(a);
  const y = classify(b);
  if (CATEGORY_ORDER[x.category] !== CATEGORY_ORDER[y.category]) {
    return CATEGORY_ORDER[x.category] - CATEGORY_ORDER[y.category];
  }
  if (x.category === "numeric" && y.category === "numeric") {
    const order = compareNumericClassified(x, y);
    if (order === undefined) {
      // NaN sorts after every number (as oxigraph does) and equal to itself.
      const aNaN = x.numeric !== undefined && "approx" in x.numeric && Number.isNaN(x.numeric.approx);
      const bNaN = y.numeric !== undefined && "approx" in y.numeric && Number.isNaN(y.numeric.approx);
      if (aNaN !== bNaN) return aNaN ? 1 : -1;
    } else if (order !== 0) return order;
  } else if ("dateTime" in x && "dateTime" in y) {
    // Indeterminate pairs (a timezone on one side only) order as if the missing timezone were Z.
    const order =
      compareDateTime(x.dateTime, y.dateTime) ??
      compareDateTime(
        { ...x.dateTime, timezone: x.dateTime.timezone ?? 0 },
        { ...y.dateTime, timezone: y.dateTime.timezone ?? 0 },
      );
    if (order) return order;
  } else if (x.category === "boolean" && y.category === "boolean") {
    if (x.boolean !== y.boolean) return x.boolean ? 1 : -1;
  }
  // Plain and language-tagged strings interleave by their text; the tag, then the datatype break ties.
  return (
    compareCodePoints(a.value, b.value) ||
    compareCodePoints(a.language.toLowerCase(), b.language.toLowerCase()) ||
    compareCodePoints(datatypeOf(a), datatypeOf(b))
  );
}

/**
 * ORDER BY ordering: unbound < blank nodes < IRIs < literals; literals by the `<` operator where it is
 * defined, then by a stable lexical order (lexical form, datatype, language).
 */
export function compareTerms(a: RDF.Term | undefined, b: RDF.Term | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const typeOrder = (TERM_TYPE_ORDER[a.termType] ?? 4) - (TERM_TYPE_ORDER[b.termType] ?? 4);
  if (typeOrder !== 0) return typeOrder;
  if (a.termType === "Literal" && b.termType === "Literal") return literalOrder(a, b);
  return compareCodePoints(a.value, b.value);
}
