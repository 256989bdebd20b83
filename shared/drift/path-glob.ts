/** Most glob patterns one check may carry, and the longest one. */
export const MAX_PATH_GLOBS = 32;
export const MAX_PATH_GLOB_LENGTH = 256;

/**
 * A glob over relative POSIX paths: `*` matches within one segment, `?` one character of a segment,
 * and a whole `**` segment any number of segments (none included). Everything else is literal.
 * Matching works segment by segment with a memo, so its cost is bounded by the product of the
 * pattern's and the path's lengths whatever the pattern holds (no backtracking regular expression).
 */
export class PathGlob {
  private readonly segments: string[];

  constructor(readonly pattern: string) {
    this.segments = pattern.split("/");
  }

  matches(path: string): boolean {
    const parts = path.split("/");
    const memo = new Map<number, boolean>();
    const match = (p: number, s: number): boolean => {
      const key = p * (parts.length + 1) + s;
      const known = memo.get(key);
      if (known !== undefined) return known;
      let result: boolean;
      if (p === this.segments.length) result = s === parts.length;
      else if (this.segments[p] === "**") result = match(p + 1, s) || (s < parts.length && match(p, s + 1));
      else
        result =
          s < parts.length && segmentMatches(this.segments[p] as string, parts[s] as string) && match(p + 1, s + 1);
      memo.set(key, result);
      return result;
    };
    return match(0, 0);
  }
}

/** `*` and `?` within one segment: the two-pointer wildcard match, linear in practice, quadratic at worst. */
function segmentMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/** Whether a path is in the scope the globs draw (every path when there are none). */
export function inScope(globs: readonly PathGlob[], path: string): boolean {
  return globs.length === 0 || globs.some((glob) => glob.matches(path));
}
