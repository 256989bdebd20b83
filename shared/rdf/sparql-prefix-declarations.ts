// A PREFIX keyword, its PN_PREFIX (ASCII subset) and an absolute IRI, read where a token may start.
const PREFIX_DECLARATION =
  /PREFIX\s+((?:[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)?):\s*<([A-Za-z][A-Za-z0-9+.-]*:[^<>"{}|^`\\\s]*)>/iy;
const IRI_REFERENCE = /<[^<>"{}|^`\\\s]*>/y;
// A character that makes the P of PREFIX part of a longer name, variable or prefixed name.
const NAME_BEFORE = /[A-Za-z0-9_:?$.-]/;

function endOfString(text: string, start: number): number {
  const quote = text[start] as string;
  const long = text.startsWith(quote.repeat(3), start);
  const closing = long ? quote.repeat(3) : quote;
  let i = start + closing.length;
  while (i < text.length) {
    const char = text[i];
    if (char === "\\") i += 2;
    else if (text.startsWith(closing, i)) return i + closing.length;
    else if (!long && (char === "\n" || char === "\r")) return i;
    else i += 1;
  }
  return text.length;
}

/**
 * The PREFIX declarations of a SPARQL request (every operation's prologue), in order, in one pass that skips
 * comments, strings and IRIs. Declarations with a relative IRI or a prefix outside ASCII are left out.
 */
export function sparqlPrefixDeclarations(text: string): [prefix: string, namespace: string][] {
  const declarations: [string, string][] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === "#") {
      while (i < text.length && text[i] !== "\n" && text[i] !== "\r") i += 1;
    } else if (char === '"' || char === "'") {
      i = endOfString(text, i);
    } else if (char === "<") {
      IRI_REFERENCE.lastIndex = i;
      i = IRI_REFERENCE.test(text) ? IRI_REFERENCE.lastIndex : i + 1;
    } else if ((char === "P" || char === "p") && !NAME_BEFORE.test(text[i - 1] ?? " ")) {
      PREFIX_DECLARATION.lastIndex = i;
      const match = PREFIX_DECLARATION.exec(text);
      if (match) {
        declarations.push([match[1] as string, match[2] as string]);
        i = PREFIX_DECLARATION.lastIndex;
      } else {
        i += 1;
      }
    } else {
      i += 1;
    }
  }
  return declarations;
}
