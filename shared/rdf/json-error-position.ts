/**
 * Offset of the first character where `text` stops being valid JSON (RFC 8259), or -1 when it is valid.
 * JSON.parse messages differ between engines and versions (V8 in Node 22 names no position), so the
 * position of a JSON-LD syntax error is found by this small scanner instead.
 */
export function jsonErrorOffset(text: string): number {
  let pos = 0;
  const fail = (at: number): never => {
    throw at;
  };
  const skipWhitespace = () => {
    while (pos < text.length && " \t\n\r".includes(text[pos] as string)) pos++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[pos] !== ch) fail(pos);
      pos++;
    }
  };
  const jsonString = () => {
    pos++; // opening quote
    while (pos < text.length) {
      const ch = text.charCodeAt(pos);
      if (ch === 0x22) {
        pos++;
        return;
      }
      if (ch < 0x20) fail(pos);
      if (ch === 0x5c) {
        const escaped = text[pos + 1];
        if (escaped === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) fail(pos);
          pos += 6;
        } else if (escaped !== undefined && '"\\/bfnrt'.includes(escaped)) {
          pos += 2;
        } else {
          fail(pos);
        }
      } else {
        pos++;
      }
    }
    fail(pos);
  };
  const number = () => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400));
    if (!match || match[0] === "-") fail(pos);
    pos += (match as RegExpExecArray)[0].length;
  };
  // Explicit stack of open containers, so deeply nested input cannot overflow the call stack.
  const value = () => {
    const stack: ("{" | "[")[] = [];
    for (;;) {
      skipWhitespace();
      const ch = text[pos];
      if (ch === "{" || ch === "[") {
        pos++;
        skipWhitespace();
        const close = ch === "{" ? "}" : "]";
        if (text[pos] === close) {
          pos++;
        } else {
          stack.push(ch);
          if (ch === "{") {
            if (text[pos] !== '"') fail(pos);
            jsonString();
            skipWhitespace();
            if (text[pos] !== ":") fail(pos);
            pos++;
          }
          continue;
        }
      } else if (ch === '"') jsonString();
      else if (ch === "t") literal("true");
      else if (ch === "f") literal("false");
      else if (ch === "n") literal("null");
      else if (ch === "-" || (ch !== undefined && ch >= "0" && ch <= "9")) number();
      else fail(pos);
      // After a complete value: close containers or move to the next member.
      for (;;) {
        const open = stack.at(-1);
        if (!open) return;
        skipWhitespace();
        const next = text[pos];
        if (next === ",") {
          pos++;
          if (open === "{") {
            skipWhitespace();
            if (text[pos] !== '"') fail(pos);
            jsonString();
            skipWhitespace();
            if (text[pos] !== ":") fail(pos);
            pos++;
          }
          break;
        }
        if ((open === "{" && next === "}") || (open === "[" && next === "]")) {
          pos++;
          stack.pop();
          continue;
        }
        fail(pos);
      }
    }
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) pos = 1;
    value();
    skipWhitespace();
    if (pos < text.length) fail(pos);
    return -1;
  } catch (offset) {
    if (typeof offset === "number") return offset;
    throw offset;
  }
}
