/** Inclusive code point ranges, sorted and merged by `normalizeRanges`. */
export type CodePointRanges = Array<[number, number]>;

export const MAX_CODE_POINT = 0x10ffff;

/** What JavaScript's `\s` matches (WhiteSpace and LineTerminator). */
export const JS_WHITESPACE: CodePointRanges = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

export const ASCII_DIGITS: CodePointRanges = [[0x30, 0x39]];
export const ASCII_WORD: CodePointRanges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];

export function normalizeRanges(ranges: CodePointRanges): CodePointRanges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: CodePointRanges = [];
  for (const [low, high] of sorted) {
    const last = merged[merged.length - 1];
    if (last && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else merged.push([low, high]);
  }
  return merged;
}

export function complementRanges(ranges: CodePointRanges): CodePointRanges {
  const result: CodePointRanges = [];
  let next = 0;
  for (const [low, high] of normalizeRanges(ranges)) {
    if (low > next) result.push([next, low - 1]);
    next = high + 1;
  }
  if (next <= MAX_CODE_POINT) result.push([next, MAX_CODE_POINT]);
  return result;
}

export function subtractRanges(from: CodePointRanges, removed: CodePointRanges): CodePointRanges {
  const kept = complementRanges(removed);
  const result: CodePointRanges = [];
  for (const [low, high] of normalizeRanges(from)) {
    for (const [keptLow, keptHigh] of kept) {
      const start = Math.max(low, keptLow);
      const end = Math.min(high, keptHigh);
      if (start <= end) result.push([start, end]);
    }
  }
  return result;
}

/** RE2 class body text for the ranges (without the brackets). */
export function rangesToClassBody(ranges: CodePointRanges): string {
  let body = "";
  for (const [low, high] of ranges) {
    body += low === high ? `\\x{${low.toString(16)}}` : `\\x{${low.toString(16)}}-\\x{${high.toString(16)}}`;
  }
  return body;
}

/** An RE2 class matching exactly the ranges; an empty set becomes a class that matches nothing. */
export function rangesToClass(ranges: CodePointRanges): string {
  const normalized = normalizeRanges(ranges);
  if (normalized.length === 0) return `[^\\x{0}-\\x{${MAX_CODE_POINT.toString(16)}}]`;
  return `[${rangesToClassBody(normalized)}]`;
}
