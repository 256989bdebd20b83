import {
  type CodePointRanges,
  complementRanges,
  JS_WHITESPACE,
  MAX_CODE_POINT,
  rangesToClass,
  rangesToClassBody,
} from "./code-point-ranges";
import { RegexNotSupportedError } from "./regex-errors";

// Rewrites a JavaScript pattern (non-Unicode mode, already accepted by `new RegExp`) into RE2
// syntax with the same meaning: JavaScript's `\s` and `.` sets, identity escapes, `[]`/`[^]`,
// literal braces. Back-references and lookaround have no linear-time equivalent: refused.

const ANY_CHARACTER = `[\\x{0}-\\x{${MAX_CODE_POINT.toString(16)}}]`;
const NOT_LINE_TERMINATOR = "[^\\n\\r\\x{2028}\\x{2029}]";
const QUANTIFIER_BRACES = /^\{\d+(?:,\d*)?\}/;

const hex = (codePoint: number) => `\\x{${codePoint.toString(16)}}`;
const isHex = (text: string) => /^[0-9a-fA-F]+$/.test(text);

interface Escape {
  /** RE2 text outside a class. */
  atom: string;
  /** RE2 text inside a class. */
  classItem: string;
  next: number;
}

/** Reads the escape at `index` (pointing at the backslash). */
function readEscape(source: string, index: number, inClass: boolean): Escape {
  const char = source[index + 1] as string;
  const next = index + 2;
  const same = (text: string): Escape => ({ atom: text, classItem: text, next });
  const set = (ranges: CodePointRanges): Escape => ({
    atom: rangesToClass(ranges),
    classItem: rangesToClassBody(ranges),
    next,
  });
  switch (char) {
    case "d":
    case "D":
    case "w":
    case "W":
    case "n":
    case "r":
    case "t":
    case "f":
    case "v":
      return same(`\\${char}`);
    case "s":
      return set(JS_WHITESPACE);
    case "S":
      return set(complementRanges(JS_WHITESPACE));
    case "b":
    case "B":
      return inClass ? same(hex(8)) : same(`\\${char}`);
    case "x": {
      const digits = source.slice(next, next + 2);
      if (digits.length === 2 && isHex(digits)) return { ...same(hex(Number.parseInt(digits, 16))), next: next + 2 };
      return same(hex(0x78));
    }
    case "u": {
      const digits = source.slice(next, next + 4);
      if (digits.length === 4 && isHex(digits)) return { ...same(hex(Number.parseInt(digits, 16))), next: next + 4 };
      return same(hex(0x75));
    }
    case "c": {
      const letter = source[next];
      if (letter !== undefined && /[A-Za-z]/.test(letter))
        return { ...same(hex((letter.codePointAt(0) as number) % 32)), next: next + 1 };
      return { atom: "\\\\c", classItem: "\\\\c", next };
    }
    case "k":
      if (source[next] === "<") throw new RegexNotSupportedError("back-reference");
      return same(hex(0x6b));
    default:
      break;
  }
  if (char >= "0" && char <= "9") {
    if (!inClass && char !== "0") throw new RegexNotSupportedError("back-reference");
    // Legacy octal escape: up to three octal digits, at most \377.
    let digits = "";
    let i = index + 1;
    while (i < source.length && digits.length < 3 && /[0-7]/.test(source[i] as string)) {
      if (Number.parseInt(digits + source[i], 8) > 0o377) break;
      digits += source[i];
      i++;
    }
    if (digits === "") return { ...same(hex(char.codePointAt(0) as number)) };
    return { ...same(hex(Number.parseInt(digits, 8))), next: i };
  }
  return same(hex(source.codePointAt(index + 1) as number));
}

/** Translates the class starting at `index` ("["); returns its RE2 text and the next index. */
function translateClass(source: string, index: number): { text: string; next: number } {
  let i = index + 1;
  let negated = false;
  if (source[i] === "^") {
    negated = true;
    i++;
  }
  if (source[i] === "]") return { text: negated ? ANY_CHARACTER : rangesToClass([]), next: i + 1 };
  let body = "";
  while (i < source.length && source[i] !== "]") {
    const char = source[i] as string;
    if (char === "\\") {
      const escaped = readEscape(source, i, true);
      body += escaped.classItem;
      i = escaped.next;
      continue;
    }
    body += char === "[" ? "\\[" : char;
    i++;
  }
  return { text: `[${negated ? "^" : ""}${body}]`, next: i + 1 };
}

/** The RE2 pattern with the meaning of JavaScript `source` (flags d, g, i, m, y need nothing here). */
export function jsPatternToRe2(source: string, dotAll = false): string {
  let out = "";
  let i = 0;
  while (i < source.length) {
    const char = source[i] as string;
    switch (char) {
      case "\\": {
        const escaped = readEscape(source, i, false);
        out += escaped.atom;
        i = escaped.next;
        continue;
      }
      case "[": {
        const translated = translateClass(source, i);
        out += translated.text;
        i = translated.next;
        continue;
      }
      case "(":
        if (source[i + 1] !== "?") {
          out += "(";
          i++;
          continue;
        }
        if (source[i + 2] === ":") {
          out += "(?:";
          i += 3;
          continue;
        }
        if (source[i + 2] === "=" || source[i + 2] === "!") throw new RegexNotSupportedError("lookahead");
        if (source[i + 2] === "<" && (source[i + 3] === "=" || source[i + 3] === "!"))
          throw new RegexNotSupportedError("lookbehind");
        if (source[i + 2] === "<") {
          const close = source.indexOf(">", i + 3);
          out += `(?P<${source.slice(i + 3, close)}>`;
          i = close + 1;
          continue;
        }
        throw new RegexNotSupportedError(`group syntax (${source.slice(i, i + 3)}`);
      case ".":
        out += dotAll ? ANY_CHARACTER : NOT_LINE_TERMINATOR;
        i++;
        continue;
      case "{": {
        const quantifier = QUANTIFIER_BRACES.exec(source.slice(i, i + 24));
        if (quantifier) {
          out += quantifier[0];
          i += quantifier[0].length;
        } else {
          out += "\\{";
          i++;
        }
        continue;
      }
      case "}":
      case "]":
        out += `\\${char}`;
        i++;
        continue;
      default:
        out += char;
        i++;
    }
  }
  return out;
}
