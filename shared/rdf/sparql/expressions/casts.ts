import type * as RDF from "@rdfjs/types";
import { booleanValue } from "./compare";
import { canonicalDateTime, dateTimeValue, parseDate, parseDateTime } from "./datetime";
import { ExpressionError } from "./errors";
import {
  Exact,
  exactFromDouble,
  isNumericDatatype,
  type NumericValue,
  numericToLiteral,
  numericToXPathString,
  numericValue,
  parseDecimalLexical,
  parseDoubleLexical,
  parseIntegerLexical,
  promote,
  toNumber,
} from "./numeric";
import { booleanLiteral, DERIVED_INTEGER_TYPES, datatypeOf, typedLiteral, XSD } from "./vocab";

/** Datatypes that have a constructor function (cast) in this library. */
export function isCastTarget(datatype: string): boolean {
  return (
    datatype === XSD.string ||
    datatype === XSD.boolean ||
    datatype === XSD.dateTime ||
    datatype === XSD.date ||
    isNumericDatatype(datatype)
  );
}

function fail(target: string): never {
  throw new ExpressionError(`cannot cast to ${target}`);
}

function castToNumeric(target: "integer" | "decimal" | "float" | "double", term: RDF.Literal): NumericValue {
  const datatype = datatypeOf(term);
  if (datatype === XSD.string) {
    const lexical = term.value;
    switch (target) {
      case "integer": {
        const exact = parseIntegerLexical(lexical);
        if (!exact) fail(XSD.integer);
        return { kind: "integer", exact };
      }
      case "decimal": {
        const exact = parseDecimalLexical(lexical);
        if (!exact) fail(XSD.decimal);
        return { kind: "decimal", exact };
      }
      default: {
        const approx = parseDoubleLexical(lexical.startsWith("+INF") ? lexical.slice(1) : lexical);
        if (approx === undefined) fail(XSD[target]);
        return { kind: target, approx: target === "float" ? Math.fround(approx) : approx };
      }
    }
  }
  if (datatype === XSD.boolean) {
    const value = booleanValue(term);
    if (value === undefined) fail(XSD[target]);
    return promote({ kind: "integer", exact: new Exact(value ? 1 : 0) }, target);
  }
  const value = numericValue(term);
  if (!value) fail(XSD[target]);
  if (target === "integer") {
    if ("exact" in value) return { kind: "integer", exact: value.exact.trunc() };
    if (!Number.isFinite(value.approx)) fail(XSD.integer);
    return { kind: "integer", exact: exactFromDouble(value.approx).trunc() };
  }
  if (target === "decimal" && !("exact" in value) && !Number.isFinite(value.approx)) fail(XSD.decimal);
  if (target === "float" || target === "double") {
    const approx = toNumber(value);
    return { kind: target, approx: target === "float" ? Math.fround(approx) : approx };
  }
  return promote(value, target);
}

/** Cast to xsd:string: canonical forms for valid typed values, the lexical form otherwise (language tags dropped). */
function castToString(term: RDF.Term): RDF.Literal {
  if (term.termType === "NamedNode") return typedLiteral(term.value, XSD.string);
  if (term.termType !== "Literal") fail(XSD.string);
  const datatype = datatypeOf(term);
  if (isNumericDatatype(datatype)) {
    const value = numericValue(term);
    if (value) return typedLiteral(numericToXPathString(value), XSD.string);
  } else if (datatype === XSD.boolean) {
    const value = booleanValue(term);
    if (value !== undefined) return typedLiteral(String(value), XSD.string);
  } else if (datatype === XSD.dateTime || datatype === XSD.date) {
    const value = dateTimeValue(term);
    if (value) return typedLiteral(canonicalDateTime(value), XSD.string);
  }
  return typedLiteral(term.value, XSD.string);
}

/** XPath casting (constructor functions) as SPARQL 17.5 requires, plus xsd:date and derived integer types. */
export function castTo(target: string, term: RDF.Term): RDF.Term {
  if (target === XSD.string) return castToString(term);
  if (term.termType !== "Literal" || term.language) fail(target);
  const datatype = datatypeOf(term);
  if (datatype !== XSD.string && !isCastTarget(datatype)) fail(target);
  switch (target) {
    case XSD.integer:
      return numericToLiteral(castToNumeric("integer", term));
    case XSD.decimal:
      return numericToLiteral(castToNumeric("decimal", term));
    case XSD.float:
      return numericToLiteral(castToNumeric("float", term));
    case XSD.double:
      return numericToLiteral(castToNumeric("double", term));
    case XSD.boolean: {
      if (datatype === XSD.string) {
        if (term.value === "true" || term.value === "1") return booleanLiteral(true);
        if (term.value === "false" || term.value === "0") return booleanLiteral(false);
        fail(target);
      }
      if (datatype === XSD.boolean) {
        const value = booleanValue(term);
        if (value === undefined) fail(target);
        return booleanLiteral(value);
      }
      const value = numericValue(term);
      if (!value) fail(target);
      const number = toNumber(value);
      return booleanLiteral(number !== 0 && !Number.isNaN(number));
    }
    case XSD.dateTime: {
      const value = datatype === XSD.string ? parseDateTime(term.value) : dateTimeValue(term);
      if (!value) fail(target);
      return typedLiteral(canonicalDateTime({ ...value, kind: "dateTime" }), XSD.dateTime);
    }
    case XSD.date: {
      const value = datatype === XSD.string ? parseDate(term.value) : dateTimeValue(term);
      if (!value) fail(target);
      return typedLiteral(canonicalDateTime({ ...value, kind: "date" }), XSD.date);
    }
    default: {
      const bounds = DERIVED_INTEGER_TYPES.get(target);
      if (!bounds) fail(target);
      const integer = castToNumeric("integer", term);
      const literal = numericToLiteral(integer);
      const big = BigInt(literal.value);
      if ((bounds[0] !== undefined && big < bounds[0]) || (bounds[1] !== undefined && big > bounds[1])) fail(target);
      return typedLiteral(literal.value, target);
    }
  }
}
