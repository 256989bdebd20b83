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

/** What an atom (or a group, once closed) contributes to the meaning checks. */
interface Item {
  /** Can match the empty string. */
  nullable: boolean;
  /** Its preferred match can be empty where a longer one exists (lazy `*?`, an empty alternative before others). */
  prefersEmpty: boolean;
  /** Capturing groups it holds, its own included. */
  captures: number;
  /** Some capture it holds may not take part in a match of it. */
  conditionalCaptures: boolean;
  group: boolean;
}

interface GroupFrame {
  capturing: boolean;
  alternativeNullable: boolean;
  anyAlternativeNullable: boolean;
  nullableBeforeLast: boolean;
  prefersEmpty: boolean;
  captures: number;
  conditionalCaptures: boolean;
  alternation: boolean;
}

const newFrame = (capturing: boolean): GroupFrame => ({
  capturing,
  alternativeNullable: true,
  anyAlternativeNullable: false,
  nullableBeforeLast: false,
  prefersEmpty: false,
  captures: 0,
  conditionalCaptures: false,
  alternation: false,
});

const ATOM: Item = { nullable: false, prefersEmpty: false, captures: 0, conditionalCaptures: false, group: false };
const ASSERTION: Item = { ...ATOM, nullable: true };

function closeFrame(frame: GroupFrame): Item {
  const nullable = frame.anyAlternativeNullable || frame.alternativeNullable;
  return {
    nullable,
    prefersEmpty: frame.prefersEmpty || frame.nullableBeforeLast,
    captures: frame.captures + (frame.capturing ? 1 : 0),
    conditionalCaptures: frame.conditionalCaptures || (frame.alternation && frame.captures > 0),
    group: true,
  };
}

/** Reads the quantifier at `index`, if any. */
function readQuantifier(
  source: string,
  index: number,
): { text: string; min: number; max: number; lazy: boolean } | null {
  const char = source[index];
  let text: string;
  let min: number;
  let max: number;
  if (char === "*" || char === "+" || char === "?") {
    text = char;
    min = char === "+" ? 1 : 0;
    max = char === "?" ? 1 : Number.POSITIVE_INFINITY;
  } else if (char === "{") {
    const braces = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(index, index + 24));
    if (!braces) return null;
    text = braces[0];
    min = Number(braces[1]);
    max = braces[2] === undefined ? min : braces[3] === "" ? Number.POSITIVE_INFINITY : Number(braces[3]);
  } else return null;
  const lazy = source[index + text.length] === "?";
  return { text: lazy ? `${text}?` : text, min, max, lazy };
}

/**
 * JavaScript rejects an empty iteration of a repeated group and resets the captures inside a group
 * at each iteration; RE2 does neither. Where that changes the match or a capture, refuse.
 */
function quantified(item: Item, min: number, max: number, lazy: boolean): Item {
  if (item.group && max > min && item.nullable && item.prefersEmpty)
    throw new RegexNotSupportedError("a repeated group whose preferred match is empty");
  if (item.group && max > min && item.nullable && item.captures > 0)
    throw new RegexNotSupportedError("a capturing group in a repeated group that can match the empty string");
  if (item.group && max > 1 && item.conditionalCaptures)
    throw new RegexNotSupportedError("a capturing group that an iteration of a repeated group may skip");
  return {
    nullable: item.nullable || min === 0,
    prefersEmpty: item.prefersEmpty || (lazy && min === 0),
    captures: item.captures,
    conditionalCaptures: item.conditionalCaptures || (min === 0 && item.captures > 0),
    group: false,
  };
}

function addItem(frame: GroupFrame, item: Item): void {
  frame.alternativeNullable &&= item.nullable;
  frame.prefersEmpty ||= item.prefersEmpty;
  frame.captures += item.captures;
  frame.conditionalCaptures ||= item.conditionalCaptures;
}

/** The RE2 pattern with the meaning of JavaScript `source` (flags d, g, i, m, y need nothing here). */
export function jsPatternToRe2(source: string, dotAll = false): string {
  let out = "";
  let i = 0;
  const frames: GroupFrame[] = [newFrame(false)];
  const frame = () => frames[frames.length - 1] as GroupFrame;
  while (i < source.length) {
    const char = source[i] as string;
    let item: Item | null = null;
    switch (char) {
      case "\\": {
        const escaped = readEscape(source, i, false);
        out += escaped.atom;
        i = escaped.next;
        item = escaped.atom === "\\b" || escaped.atom === "\\B" ? ASSERTION : ATOM;
        break;
      }
      case "[": {
        const translated = translateClass(source, i);
        out += translated.text;
        i = translated.next;
        item = ATOM;
        break;
      }
      case "(":
        if (source[i + 1] !== "?") {
          out += "(";
          i++;
          frames.push(newFrame(true));
          continue;
        }
        if (source[i + 2] === ":") {
          out += "(?:";
          i += 3;
          frames.push(newFrame(false));
          continue;
        }
        if (source[i + 2] === "=" || source[i + 2] === "!") throw new RegexNotSupportedError("lookahead");
        if (source[i + 2] === "<" && (source[i + 3] === "=" || source[i + 3] === "!"))
          throw new RegexNotSupportedError("lookbehind");
        if (source[i + 2] === "<") {
          const close = source.indexOf(">", i + 3);
          out += `(?P<${source.slice(i + 3, close)}>`;
          i = close + 1;
          frames.push(newFrame(true));
          continue;
        }
        throw new RegexNotSupportedError(`group syntax ${source.slice(i, i + 3)}`);
      case ")": {
        out += ")";
        i++;
        const closed = frames.pop() as GroupFrame;
        item = closeFrame(closed);
        break;
      }
      case "|": {
        const current = frame();
        current.alternation = true;
        if (current.alternativeNullable) current.nullableBeforeLast = true;
        current.anyAlternativeNullable ||= current.alternativeNullable;
        current.alternativeNullable = true;
        out += "|";
        i++;
        continue;
      }
      case "^":
      case "$":
        out += char;
        i++;
        item = ASSERTION;
        break;
      case ".":
        out += dotAll ? ANY_CHARACTER : NOT_LINE_TERMINATOR;
        i++;
        item = ATOM;
        break;
      case "{":
      case "}":
      case "]":
        out += `\\${char}`;
        i++;
        item = ATOM;
        break;
      default:
        out += char;
        i++;
        item = ATOM;
    }
    const quantifier = readQuantifier(source, i);
    if (quantifier) {
      item = quantified(item, quantifier.min, quantifier.max, quantifier.lazy);
      out += quantifier.text;
      i += quantifier.text.length;
    }
    addItem(frame(), item);
  }
  return out;
}
