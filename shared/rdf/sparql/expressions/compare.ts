import type * as RDF from "@rdfjs/types";
import { compareDateTime, dateTimeValue } from "./datetime";
import { ExpressionError } from "./errors";
import { compareNumeric, isNumericDatatype, numericValue } from "./numeric";
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

function categoryOf(literal: RDF.Literal): Category {
  if (literal.language) return "langString";
  const datatype = datatypeOf(literal);
  if (datatype === XSD.string) return "string";
  if (isNumericDatatype(datatype)) return numericValue(literal) ? "numeric" : "invalid";
  if (datatype === XSD.boolean) return booleanValue(literal) === undefined ? "invalid" : "boolean";
  if (datatype === XSD.dateTime || datatype === XSD.date) {
    return dateTimeValue(literal) ? (datatype === XSD.dateTime ? "dateTime" : "date") : "invalid";
  }
  return "other";
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
  const categoryA = categoryOf(a);
  const categoryB = categoryOf(b);
  if (categoryA === categoryB) {
    switch (categoryA) {
      case "numeric":
        return compareNumeric(numericValue(a)!, numericValue(b)!) === 0;
      case "string":
        return a.value === b.value;
      case "langString":
        return a.value === b.value && a.language.toLowerCase() === b.language.toLowerCase();
      case "boolean":
        return booleanValue(a) === booleanValue(b);
      case "dateTime":
      case "date": {
        const order = compareDateTime(dateTimeValue(a)!, dateTimeValue(b)!);
        if (order === undefined) throw new ExpressionError("indeterminate date/time comparison");
        return order === 0;
      }
    }
  }
  if (sameTerm(a, b)) return true;
  // A language-tagged string never equals a literal without that tag, whatever its datatype (W3C open-eq-08).
  if (categoryA === "langString" || categoryB === "langString") return false;
  if (categoryA === "other" || categoryA === "invalid" || categoryB === "other" || categoryB === "invalid") {
    throw new ExpressionError("cannot compare literals of unknown or ill-typed datatypes");
  }
  return false;
}

/** The SPARQL `<` operator on two terms; throws ExpressionError when the operands are not comparable. */
export function lessThan(a: RDF.Term, b: RDF.Term): boolean {
  const order = orderValues(a, b);
  if (order === null) throw new ExpressionError("operands are not comparable with <");
  return order !== undefined && order < 0;
}

/**
 * Value order of two comparable literals: a number, undefined when the comparison is false both ways (NaN),
 * null when the operands are not comparable.
 */
export function orderValues(a: RDF.Term, b: RDF.Term): number | undefined | null {
  if (a.termType !== "Literal" || b.termType !== "Literal") return null;
  const category = categoryOf(a);
  if (category !== categoryOf(b)) return null;
  switch (category) {
    case "numeric":
      return compareNumeric(numericValue(a)!, numericValue(b)!);
    case "string":
      return compareCodePoints(a.value, b.value);
    case "boolean":
      return Number(booleanValue(a)) - Number(booleanValue(b));
    case "langString":
      // An extension (SPARQL 17.3.1): strings with the same language tag compare by their text.
      if (a.language.toLowerCase() !== b.language.toLowerCase()) return null;
      return compareCodePoints(a.value, b.value);
    case "dateTime":
    case "date": {
      const order = compareDateTime(dateTimeValue(a)!, dateTimeValue(b)!);
      return order === undefined ? null : order;
    }
    default:
      return null;
  }
}

const TERM_TYPE_ORDER: Record<string, number> = { BlankNode: 1, NamedNode: 2, Literal: 3 };

function literalOrder(a: RDF.Literal, b: RDF.Literal): number {
  const categoryA = categoryOf(a);
  const categoryB = categoryOf(b);
  if (CATEGORY_ORDER[categoryA] !== CATEGORY_ORDER[categoryB])
    return CATEGORY_ORDER[categoryA] - CATEGORY_ORDER[categoryB];
  if (categoryA === "numeric") {
    const order = compareNumeric(numericValue(a)!, numericValue(b)!);
    if (order === undefined) {
      // NaN sorts after every number (as oxigraph does) and equal to itself.
      const aNaN = Number.isNaN(Number(a.value));
      const bNaN = Number.isNaN(Number(b.value));
      if (aNaN !== bNaN) return aNaN ? 1 : -1;
    } else if (order !== 0) return order;
  } else {
    const order =
      categoryA === "other" || categoryA === "invalid" || categoryA === "langString" ? 0 : orderValues(a, b);
    if (typeof order === "number" && order !== 0) return order;
    if (order === null && (categoryA === "dateTime" || categoryA === "date")) {
      const order = timelineFallback(a, b);
      if (order !== 0) return order;
    }
  }
  return (
    compareCodePoints(a.value, b.value) ||
    compareCodePoints(a.language.toLowerCase(), b.language.toLowerCase()) ||
    compareCodePoints(datatypeOf(a), datatypeOf(b))
  );
}

function timelineFallback(a: RDF.Literal, b: RDF.Literal): number {
  const x = dateTimeValue(a)!;
  const y = dateTimeValue(b)!;
  // Indeterminate pairs (timezone on one side only): order as if the missing timezone were Z.
  const withZ = (v: typeof x) => ({ ...v, timezone: v.timezone ?? 0 });
  return compareDateTime(withZ(x), withZ(y)) ?? 0;
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
