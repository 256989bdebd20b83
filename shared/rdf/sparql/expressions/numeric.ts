import type * as RDF from "@rdfjs/types";
import Decimal from "decimal.js";
import { ExpressionError } from "./errors";
import { DERIVED_INTEGER_TYPES, typedLiteral, XSD } from "./vocab";

/** Exact arithmetic for xsd:integer and xsd:decimal: enough precision that + - * never round. */
export const Exact = Decimal.clone({
  precision: 1_000,
  rounding: Decimal.ROUND_HALF_EVEN,
  toExpNeg: -1_000,
  toExpPos: 1_000,
});
export type ExactDecimal = InstanceType<typeof Exact>;

/** Fractional digits kept by xsd:decimal division (at least 18, as XSD requires), truncated. */
export const DIVISION_SCALE = 18;

export type NumericKind = "integer" | "decimal" | "float" | "double";

export type NumericValue =
  | { kind: "integer" | "decimal"; exact: ExactDecimal }
  | { kind: "float" | "double"; approx: number };

const KIND_RANK: Record<NumericKind, number> = { integer: 0, decimal: 1, float: 2, double: 3 };

const INTEGER_RE = /^[+-]?[0-9]+$/;
const DECIMAL_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;
const DOUBLE_RE = /^(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN)$/;

export function isNumericDatatype(datatype: string): boolean {
  return (
    datatype === XSD.integer ||
    datatype === XSD.decimal ||
    datatype === XSD.float ||
    datatype === XSD.double ||
    DERIVED_INTEGER_TYPES.has(datatype)
  );
}

export function parseIntegerLexical(lexical: string, datatype: string = XSD.integer): ExactDecimal | undefined {
  if (!INTEGER_RE.test(lexical)) return undefined;
  const bounds = DERIVED_INTEGER_TYPES.get(datatype);
  if (bounds) {
    const big = BigInt(lexical.startsWith("+") ? lexical.slice(1) : lexical);
    if ((bounds[0] !== undefined && big < bounds[0]) || (bounds[1] !== undefined && big > bounds[1])) return undefined;
  }
  return new Exact(lexical);
}

export function parseDecimalLexical(lexical: string): ExactDecimal | undefined {
  return DECIMAL_RE.test(lexical) ? new Exact(lexical.endsWith(".") ? `${lexical}0` : lexical) : undefined;
}

export function parseDoubleLexical(lexical: string): number | undefined {
  if (!DOUBLE_RE.test(lexical)) return undefined;
  if (lexical.endsWith("INF")) return lexical.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return Number(lexical);
}

/** The value of a numeric literal; undefined when the literal is not numeric or its lexical form is invalid. */
export function numericValue(term: RDF.Term): NumericValue | undefined {
  if (term.termType !== "Literal" || term.language) return undefined;
  const datatype = term.datatype.value;
  switch (datatype) {
    case XSD.integer: {
      const exact = parseIntegerLexical(term.value);
      return exact && { kind: "integer", exact };
    }
    case XSD.decimal: {
      const exact = parseDecimalLexical(term.value);
      return exact && { kind: "decimal", exact };
    }
    case XSD.double: {
      const approx = parseDoubleLexical(term.value);
      return approx === undefined ? undefined : { kind: "double", approx };
    }
    case XSD.float: {
      const approx = parseDoubleLexical(term.value);
      return approx === undefined ? undefined : { kind: "float", approx: Math.fround(approx) };
    }
    default: {
      if (!DERIVED_INTEGER_TYPES.has(datatype)) return undefined;
      const exact = parseIntegerLexical(term.value, datatype);
      return exact && { kind: "integer", exact };
    }
  }
}

const SMALL_INTEGER_RE = /^[+-]?[0-9]{1,15}$/;

/** Fast path: the value of an xsd:integer literal of at most 15 digits as a JS number (exact), else undefined. */
export function smallIntegerValue(term: RDF.Term): number | undefined {
  if (term.termType !== "Literal") return undefined;
  const lexical = term.value;
  if (lexical.length > 16 || !SMALL_INTEGER_RE.test(lexical)) return undefined;
  if (term.datatype.value !== XSD.integer || term.language) return undefined;
  return Number(lexical);
}

const SHORT_DECIMAL_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

/**
 * Fast path for comparisons: the value of an xsd:integer or xsd:decimal literal with at most 15 digits as a
 * JS number. Such values convert to doubles exactly enough that order and equality are preserved.
 */
export function shortExactValue(term: RDF.Literal): number | undefined {
  const lexical = term.value;
  if (lexical.length > 17 || !SHORT_DECIMAL_RE.test(lexical)) return undefined;
  const datatype = term.datatype.value;
  const integer = datatype === XSD.integer;
  if (!integer && datatype !== XSD.decimal) return undefined;
  if (integer && lexical.includes(".")) return undefined;
  let digits = 0;
  for (let i = 0; i < lexical.length; i++) {
    const code = lexical.charCodeAt(i);
    if (code >= 48 && code <= 57) digits++;
  }
  if (digits > 15 || term.language) return undefined;
  return Number(lexical);
}

export function requireNumeric(term: RDF.Term): NumericValue {
  const value = numericValue(term);
  if (value === undefined) throw new ExpressionError("expected a numeric literal");
  return value;
}

export function toNumber(value: NumericValue): number {
  return "exact" in value ? value.exact.toNumber() : value.approx;
}

/** The exact decimal value of a finite double (its binary fraction written out in full). */
export function exactFromDouble(x: number): ExactDecimal {
  if (Number.isSafeInteger(x)) return new Exact(x);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biasedExponent = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exponent = -1074;
  if (biasedExponent !== 0) {
    mantissa |= 1n << 52n;
    exponent = biasedExponent - 1075;
  }
  const magnitude =
    exponent >= 0
      ? new Exact((mantissa << BigInt(exponent)).toString())
      : new Exact(`${mantissa * 5n ** BigInt(-exponent)}e-${-exponent}`);
  return x < 0 ? magnitude.negated() : magnitude;
}

/** A float/double as xsd:decimal: the nearest decimal with DIVISION_SCALE fractional digits (XPath 19.1.2.3). */
function toExact(value: NumericValue): ExactDecimal {
  if ("exact" in value) return value.exact;
  if (!Number.isFinite(value.approx)) throw new ExpressionError("NaN or INF has no decimal value");
  return exactFromDouble(value.approx).toDecimalPlaces(DIVISION_SCALE, Decimal.ROUND_HALF_EVEN);
}

/** Promotes a value to the given kind (integer → decimal → float → double). */
export function promote(value: NumericValue, kind: NumericKind): NumericValue {
  if (value.kind === kind) return value;
  switch (kind) {
    case "integer":
    case "decimal":
      return { kind, exact: toExact(value) };
    case "float":
      return { kind, approx: Math.fround(toNumber(value)) };
    case "double":
      return { kind, approx: toNumber(value) };
  }
}

export function commonKind(a: NumericValue, b: NumericValue): NumericKind {
  return KIND_RANK[a.kind] >= KIND_RANK[b.kind] ? a.kind : b.kind;
}

export type ArithmeticOperator = "+" | "-" | "*" | "/";

export function arithmetic(operator: ArithmeticOperator, left: NumericValue, right: NumericValue): NumericValue {
  let kind = commonKind(left, right);
  if (operator === "/" && kind === "integer") kind = "decimal";
  const a = promote(left, kind);
  const b = promote(right, kind);
  if ("exact" in a && "exact" in b) {
    const k = kind as "integer" | "decimal";
    switch (operator) {
      case "+":
        return { kind: k, exact: a.exact.plus(b.exact) };
      case "-":
        return { kind: k, exact: a.exact.minus(b.exact) };
      case "*":
        return { kind: k, exact: a.exact.times(b.exact) };
      case "/":
        if (b.exact.isZero()) throw new ExpressionError("division by zero");
        return { kind: k, exact: divideExact(a.exact, b.exact) };
    }
  }
  const x = toNumber(a);
  const y = toNumber(b);
  let result: number;
  switch (operator) {
    case "+":
      result = x + y;
      break;
    case "-":
      result = x - y;
      break;
    case "*":
      result = x * y;
      break;
    case "/":
      result = x / y;
      break;
  }
  return kind === "float" ? { kind, approx: Math.fround(result) } : { kind: "double", approx: result };
}

export function divideExact(a: ExactDecimal, b: ExactDecimal): ExactDecimal {
  const digits = Math.max(a.precision(), b.precision()) + DIVISION_SCALE + Math.abs(a.e - b.e) + 4;
  const Div = Exact.clone({ precision: Math.min(digits, 1_000_000_000), rounding: Decimal.ROUND_DOWN });
  return new Exact(new Div(a).div(new Div(b)).toDecimalPlaces(DIVISION_SCALE, Decimal.ROUND_DOWN));
}

export function negate(value: NumericValue): NumericValue {
  return "exact" in value
    ? { kind: value.kind, exact: value.exact.negated() }
    : { kind: value.kind, approx: -value.approx };
}

/** Three-way comparison of numeric values; undefined when either is NaN. */
export function compareNumeric(left: NumericValue, right: NumericValue): number | undefined {
  const kind = commonKind(left, right);
  const a = promote(left, kind);
  const b = promote(right, kind);
  if ("exact" in a && "exact" in b) return a.exact.comparedTo(b.exact);
  const x = toNumber(a);
  const y = toNumber(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return undefined;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function abs(value: NumericValue): NumericValue {
  return "exact" in value
    ? { kind: value.kind, exact: value.exact.abs() }
    : { kind: value.kind, approx: Math.abs(value.approx) };
}

export function ceil(value: NumericValue): NumericValue {
  return "exact" in value
    ? { kind: value.kind, exact: value.exact.ceil() }
    : { kind: value.kind, approx: Math.ceil(value.approx) };
}

export function floor(value: NumericValue): NumericValue {
  return "exact" in value
    ? { kind: value.kind, exact: value.exact.floor() }
    : { kind: value.kind, approx: Math.floor(value.approx) };
}

/** fn:round: half-way values round towards positive infinity (as Math.round, which keeps -0). */
export function round(value: NumericValue): NumericValue {
  if ("exact" in value) return { kind: value.kind, exact: value.exact.toDecimalPlaces(0, Decimal.ROUND_HALF_CEIL) };
  return { kind: value.kind, approx: Math.round(value.approx) };
}

function canonicalExact(exact: ExactDecimal, kind: "integer" | "decimal"): string {
  const text = exact.isZero() ? "0" : exact.toFixed();
  if (kind === "integer") return text;
  return text.includes(".") ? text : `${text}.0`;
}

/** Shortest decimal digits that read back as the same float32. */
function shortestFloatDigits(x: number): string {
  for (let precision = 1; precision < 10; precision++) {
    const text = x.toPrecision(precision);
    if (Math.fround(Number(text)) === x) return Number(text).toExponential();
  }
  return x.toExponential(9);
}

/** XSD canonical form of a float or double: "1.0E0", "-1.5E-3", "INF", "NaN". */
export function canonicalFloating(x: number, kind: "float" | "double"): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "INF";
  if (x === Number.NEGATIVE_INFINITY) return "-INF";
  if (x === 0) return Object.is(x, -0) ? "-0.0E0" : "0.0E0";
  const exponential = kind === "float" ? shortestFloatDigits(x) : x.toExponential();
  const [mantissa = "0", exponent = "0"] = exponential.split("e");
  const fullMantissa = mantissa.includes(".") ? mantissa : `${mantissa}.0`;
  return `${fullMantissa}E${exponent.startsWith("+") ? exponent.slice(1) : exponent}`;
}

/**
 * A numeric value as a literal in canonical form: integers "-12", decimals "2.0" (XSD 1.0; with
 * `integralDecimal: "bare"`, "2" as XSD 1.1 and fn:ceiling/floor/round/seconds results in the W3C tests),
 * floats and doubles "1.5E0".
 */
export function numericToLiteral(value: NumericValue, integralDecimal: "point" | "bare" = "point"): RDF.Literal {
  switch (value.kind) {
    case "integer":
      return typedLiteral(canonicalExact(value.exact, "integer"), XSD.integer);
    case "decimal":
      return typedLiteral(canonicalExact(value.exact, integralDecimal === "bare" ? "integer" : "decimal"), XSD.decimal);
    case "float":
      return typedLiteral(canonicalFloating(value.approx, "float"), XSD.float);
    case "double":
      return typedLiteral(canonicalFloating(value.approx, "double"), XSD.double);
  }
}

export function integerLiteral(n: number | bigint | ExactDecimal): RDF.Literal {
  return typedLiteral(typeof n === "object" ? canonicalExact(n, "integer") : String(n), XSD.integer);
}

/** XPath's cast of a numeric value to xs:string (decimal notation for doubles in [1e-6, 1e6)). */
export function numericToXPathString(value: NumericValue): string {
  if ("exact" in value) {
    return value.exact.isZero() ? "0" : value.exact.toFixed();
  }
  const x = value.approx;
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const magnitude = Math.abs(x);
  if (Number.isFinite(x) && magnitude >= 1e-6 && magnitude < 1e6) {
    const digits = value.kind === "float" ? Number(shortestFloatDigits(x)) : x;
    return new Exact(digits).toFixed();
  }
  return canonicalFloating(x, value.kind);
}

export { Decimal };
