/**
 * RFC 6901 JSON Pointer: `""` is the whole document, `/a/b/0` walks object members and array
 * indexes, `~1` stands for `/` and `~0` for `~` in a reference token.
 */
export class JsonPointerSyntaxError extends Error {
  constructor(
    readonly pointer: string,
    reason: string,
  ) {
    super(`${JSON.stringify(pointer)} is not a JSON pointer: ${reason}`);
    this.name = "JsonPointerSyntaxError";
  }
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** The reference tokens of a pointer, unescaped; throws JsonPointerSyntaxError for a malformed one. */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new JsonPointerSyntaxError(pointer, "it must be empty or start with /");
  return pointer
    .slice(1)
    .split("/")
    .map((token) => {
      if (/~(?![01])/.test(token)) throw new JsonPointerSyntaxError(pointer, "~ must be followed by 0 or 1");
      return token.replaceAll("~1", "/").replaceAll("~0", "~");
    });
}

/** Whether `pointer` is a well-formed JSON pointer. */
export function isJsonPointer(pointer: string): boolean {
  try {
    parseJsonPointer(pointer);
    return true;
  } catch {
    return false;
  }
}

/**
 * The value `pointer` refers to in `document`, or `{found: false}` when a token names no member or
 * index (`-`, the index past the end, refers to nothing). Only own properties are followed.
 */
export function resolveJsonPointer(
  document: unknown,
  pointer: string,
): { found: true; value: unknown } | { found: false } {
  let current: unknown = document;
  for (const token of parseJsonPointer(pointer)) {
    if (Array.isArray(current)) {
      if (!ARRAY_INDEX.test(token)) return { found: false };
      const index = Number(token);
      if (index >= current.length) return { found: false };
      current = current[index];
    } else if (typeof current === "object" && current !== null) {
      if (!Object.hasOwn(current, token)) return { found: false };
      current = (current as Record<string, unknown>)[token];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}
