import { KgenFilterError } from "./errors";

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/;
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const TOKEN = /\[([^\]]*)\]|YYYY|YY|MMMM|MMM|MM|M|DD|D|dddd|ddd|HH|H|mm|m|ss|s|SSS|X|x|Z/g;

/**
 * Milliseconds since the epoch of an ISO 8601 string (`2024-05-01`, `2024-05-01T12:00:00Z`,
 * `2024-05-01T12:00:00.5+02:00`). A date-time without an offset is read as UTC, never as local
 * time. Numbers are epoch milliseconds; Dates are taken as they are.
 */
export function parseInstant(input: unknown, filterName = "date"): number {
  if (input instanceof Date) {
    const time = input.getTime();
    if (Number.isNaN(time)) throw new KgenFilterError(filterName, "invalid Date");
    return time;
  }
  if (typeof input === "number") {
    if (!Number.isFinite(input)) throw new KgenFilterError(filterName, `invalid epoch milliseconds ${input}`);
    return input;
  }
  if (typeof input !== "string") {
    throw new KgenFilterError(filterName, `expected an ISO 8601 string, got ${input === null ? "null" : typeof input}`);
  }
  const match = ISO_8601.exec(input.trim());
  if (match === null) throw new KgenFilterError(filterName, `"${input}" is not an ISO 8601 date or date-time`);
  const [, year, month, day, hour = "0", minute = "0", second = "0", fraction = "", offset = "Z"] = match;
  const monthIndex = Number(month) - 1;
  const millis = Number(fraction.padEnd(3, "0").slice(0, 3));
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  const check = new Date(0);
  check.setUTCFullYear(Number(year), monthIndex, Number(day));
  check.setUTCHours(Number(hour), Number(minute), Number(second), millis);
  const utc = check.getTime();
  if (
    check.getUTCMonth() !== monthIndex ||
    check.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    throw new KgenFilterError(filterName, `"${input}" is not a valid calendar date-time`);
  }
  if (offset === "Z" || offset === "z") return utc;
  const sign = offset.startsWith("-") ? -1 : 1;
  const digits = offset.slice(1).replace(":", "");
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return utc - sign * offsetMinutes * 60_000;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/**
 * Formats an instant in UTC. Tokens: `YYYY` `YY` year; `MMMM` `MMM` `MM` `M` month (English
 * name, short name, 2-digit, number); `DD` `D` day; `dddd` `ddd` weekday (English); `HH` `H`
 * hour (24 h); `mm` `m` minute; `ss` `s` second; `SSS` milliseconds; `X` epoch seconds; `x`
 * epoch milliseconds; `Z` the literal `Z` (UTC). Text in `[brackets]` is copied as is; any other
 * character is copied. No format gives the full ISO string (`2024-05-01T12:00:00.000Z`).
 */
export function formatInstant(epochMillis: number, format?: unknown): string {
  const date = new Date(epochMillis);
  if (Number.isNaN(date.getTime())) throw new KgenFilterError("date", "instant out of range");
  if (format === undefined || format === null || format === "") return date.toISOString();
  if (typeof format !== "string") throw new KgenFilterError("date", "the format must be a string");
  return format.replace(TOKEN, (token: string, literal: string | undefined) => {
    if (literal !== undefined) return literal;
    switch (token) {
      case "YYYY":
        return pad(date.getUTCFullYear(), 4);
      case "YY":
        return pad(date.getUTCFullYear() % 100, 2);
      case "MMMM":
        return MONTHS[date.getUTCMonth()] as string;
      case "MMM":
        return (MONTHS[date.getUTCMonth()] as string).slice(0, 3);
      case "MM":
        return pad(date.getUTCMonth() + 1, 2);
      case "M":
        return String(date.getUTCMonth() + 1);
      case "DD":
        return pad(date.getUTCDate(), 2);
      case "D":
        return String(date.getUTCDate());
      case "dddd":
        return WEEKDAYS[date.getUTCDay()] as string;
      case "ddd":
        return (WEEKDAYS[date.getUTCDay()] as string).slice(0, 3);
      case "HH":
        return pad(date.getUTCHours(), 2);
      case "H":
        return String(date.getUTCHours());
      case "mm":
        return pad(date.getUTCMinutes(), 2);
      case "m":
        return String(date.getUTCMinutes());
      case "ss":
        return pad(date.getUTCSeconds(), 2);
      case "s":
        return String(date.getUTCSeconds());
      case "SSS":
        return pad(date.getUTCMilliseconds(), 3);
      case "X":
        return String(Math.floor(epochMillis / 1000));
      case "x":
        return String(epochMillis);
      default:
        return "Z";
    }
  });
}
