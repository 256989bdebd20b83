import type * as RDF from "@rdfjs/types";
import { Exact, type ExactDecimal } from "./numeric";
import { XSD } from "./vocab";

export interface DateTimeValue {
  kind: "dateTime" | "date";
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** Seconds with their fraction, exact. */
  second: ExactDecimal;
  /** Timezone offset in minutes, undefined when the value has no timezone. */
  timezone: number | undefined;
}

const DATE_TIME_RE =
  /^(-?(?:[1-9][0-9]{4,}|[0-9]{4}))-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2}(?:\.[0-9]+)?)(Z|[+-][0-9]{2}:[0-9]{2})?$/;
const DATE_RE = /^(-?(?:[1-9][0-9]{4,}|[0-9]{4}))-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function parseTimezone(text: string | undefined): number | undefined | null {
  if (text === undefined) return undefined;
  if (text === "Z") return 0;
  const hours = Number(text.slice(1, 3));
  const minutes = Number(text.slice(4, 6));
  if (minutes > 59 || hours > 14 || (hours === 14 && minutes !== 0)) return null;
  return (text.startsWith("-") ? -1 : 1) * (hours * 60 + minutes);
}

// Most date/times have whole seconds: share their exact values instead of parsing a Decimal each time.
const INTEGRAL_SECONDS = Array.from({ length: 60 }, (_, second) => new Exact(second));

export function parseDateTime(lexical: string): DateTimeValue | undefined {
  const match = DATE_TIME_RE.exec(lexical);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, tz] = match as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second =
    (s as string).length === 2 ? (INTEGRAL_SECONDS[Number(s)] ?? new Exact(s as string)) : new Exact(s as string);
  const timezone = parseTimezone(tz);
  if (timezone === null || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour === 24 ? minute !== 0 || !second.isZero() : hour > 23 || minute > 59 || second.gte(60)) return undefined;
  if (hour === 24) return { ...nextDay(year, month, day), kind: "dateTime", hour: 0, minute, second, timezone };
  return { kind: "dateTime", year, month, day, hour, minute, second, timezone };
}

function nextDay(year: number, month: number, day: number): { year: number; month: number; day: number } {
  if (day < daysInMonth(year, month)) return { year, month, day: day + 1 };
  return month < 12 ? { year, month: month + 1, day: 1 } : { year: year + 1, month: 1, day: 1 };
}

export function parseDate(lexical: string): DateTimeValue | undefined {
  const match = DATE_RE.exec(lexical);
  if (!match) return undefined;
  const [, y, mo, d, tz] = match as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const timezone = parseTimezone(tz);
  if (timezone === null || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { kind: "date", year, month, day, hour: 0, minute: 0, second: INTEGRAL_SECONDS[0] as ExactDecimal, timezone };
}

/** The value of an xsd:dateTime or xsd:date literal with a valid lexical form. */
export function dateTimeValue(term: RDF.Term): DateTimeValue | undefined {
  if (term.termType !== "Literal" || term.language) return undefined;
  if (term.datatype.value === XSD.dateTime) return parseDateTime(term.value);
  if (term.datatype.value === XSD.date) return parseDate(term.value);
  return undefined;
}

/** Days since 1970-01-01 in the proleptic Gregorian calendar (year 0 = 1 BCE, as XSD 1.1). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthIndex = (month + 9) % 12;
  const dayOfYear = Math.floor((153 * monthIndex + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** Seconds on the UTC timeline: a plain number when the seconds are whole, else exact. */
type Timeline = number | ExactDecimal;

const timelineCache = new WeakMap<DateTimeValue, Timeline>();

/** Seconds on the UTC timeline, reading a missing timezone as `assumedTimezone` minutes. */
export function timelineSeconds(value: DateTimeValue, assumedTimezone = 0): Timeline {
  if (value.timezone !== undefined || assumedTimezone === 0) {
    let seconds = timelineCache.get(value);
    if (seconds === undefined) {
      seconds = computeTimelineSeconds(value, 0);
      timelineCache.set(value, seconds);
    }
    return seconds;
  }
  return computeTimelineSeconds(value, assumedTimezone);
}

function computeTimelineSeconds(value: DateTimeValue, assumedTimezone: number): Timeline {
  const days = daysFromCivil(value.year, value.month, value.day);
  const minutes = days * 1440 + value.hour * 60 + value.minute - (value.timezone ?? assumedTimezone);
  if (value.second.isInteger() && Math.abs(minutes) < 1e13) return minutes * 60 + value.second.toNumber();
  return new Exact(minutes).times(60).plus(value.second);
}

function compareTimelines(a: Timeline, b: Timeline): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  return new Exact(a).comparedTo(b);
}

/**
 * XSD order of two date/time values; undefined when indeterminate (one has a timezone, the other not,
 * and they are within 14 hours of each other) or when the kinds differ.
 */
export function compareDateTime(a: DateTimeValue, b: DateTimeValue): number | undefined {
  if (a.kind !== b.kind) return undefined;
  if ((a.timezone === undefined) === (b.timezone === undefined)) {
    return compareTimelines(timelineSeconds(a), timelineSeconds(b));
  }
  // The implicit timezone may be anything between -14:00 and +14:00.
  const low = compareTimelines(
    a.timezone === undefined ? timelineSeconds(a, 840) : timelineSeconds(a),
    b.timezone === undefined ? timelineSeconds(b, -840) : timelineSeconds(b),
  );
  const high = compareTimelines(
    a.timezone === undefined ? timelineSeconds(a, -840) : timelineSeconds(a),
    b.timezone === undefined ? timelineSeconds(b, 840) : timelineSeconds(b),
  );
  return low === high ? low : undefined;
}

function pad(n: number, width = 2): string {
  const text = String(Math.abs(n)).padStart(width, "0");
  return n < 0 ? `-${text}` : text;
}

export function timezoneLexical(timezone: number | undefined): string {
  if (timezone === undefined) return "";
  if (timezone === 0) return "Z";
  const magnitude = Math.abs(timezone);
  return `${timezone < 0 ? "-" : "+"}${pad(Math.floor(magnitude / 60))}:${pad(magnitude % 60)}`;
}

/** xsd:dayTimeDuration lexical form of a timezone offset (e.g. "-PT5H30M", "PT0S"). */
export function timezoneDuration(timezone: number): string {
  if (timezone === 0) return "PT0S";
  const magnitude = Math.abs(timezone);
  const hours = Math.floor(magnitude / 60);
  const minutes = magnitude % 60;
  return `${timezone < 0 ? "-" : ""}PT${hours ? `${hours}H` : ""}${minutes ? `${minutes}M` : ""}`;
}

/** Canonical lexical form of a dateTime or date (24:00:00 was already read as the next day's 00:00:00). */
export function canonicalDateTime(value: DateTimeValue): string {
  const { year, month, day, hour } = value;
  const seconds = value.second.toFixed();
  const [whole = "0", fraction] = seconds.split(".");
  const secondText = `${whole.padStart(2, "0")}${fraction ? `.${fraction.replace(/0+$/, "")}` : ""}`.replace(/\.$/, "");
  const datePart = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
  if (value.kind === "date") return `${datePart}${timezoneLexical(value.timezone)}`;
  return `${datePart}T${pad(hour)}:${pad(value.minute)}:${secondText}${timezoneLexical(value.timezone)}`;
}

/** The xsd:dateTime lexical form of a JavaScript Date, in UTC. */
export function dateToLexical(date: Date): string {
  return date.toISOString();
}
