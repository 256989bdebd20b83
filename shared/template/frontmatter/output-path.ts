/** A rendered `to:` path that cannot be written inside the output tree. */
export class OutputPathError extends Error {
  readonly field = "to";
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`frontmatter field "to": output path ${JSON.stringify(path)} ${reason}`);
    this.name = "OutputPathError";
    this.path = path;
  }
}

/**
 * The normalised, relative POSIX form of a rendered output path (`./src//a/../b.ts` →
 * `src/b.ts`). Refused: empty paths, absolute paths (`/x`, `C:\x`, `\\server`), backslashes,
 * control characters, a `..` that leaves the output root, and paths naming a directory.
 */
export function normalizeOutputPath(path: string): string {
  const trimmed = path.trim();
  if (trimmed === "") throw new OutputPathError(path, "is empty");
  if (/\p{Cc}/u.test(trimmed)) throw new OutputPathError(path, "contains control characters");
  if (trimmed.includes("\\")) throw new OutputPathError(path, "contains a backslash; use /");
  if (trimmed.startsWith("/") || /^[A-Za-z]:/.test(trimmed)) throw new OutputPathError(path, "is absolute");
  if (trimmed.endsWith("/")) throw new OutputPathError(path, "names a directory");
  const segments: string[] = [];
  for (const segment of trimmed.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (segments.length === 0) throw new OutputPathError(path, "leaves the output directory");
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  if (segments.length === 0) throw new OutputPathError(path, "names the output directory itself");
  return segments.join("/");
}
