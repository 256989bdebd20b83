/** What the check reads of an artifact: its path and who wrote it. */
export interface OutputPathOwner {
  path: string;
  template: { path: string };
  rowIndex: number | null;
}

/**
 * Two output paths that differ only in letter case (or in Unicode normalization) name one file on
 * macOS and Windows checkouts, so one job may not produce both.
 *
 * The fold is deliberately wider than any one file system's: NFC, then lower → upper → lower case
 * (JavaScript's locale-independent full case mappings), then NFC again. It equates `A.ts`/`a.ts`,
 * `Σ`/`σ`/`ς`, `ß`/`ẞ`/`SS`/`ss` (`Straße.ts` collides with `STRASSE.ts`), `ı`/`I` (as Windows
 * does) and `ﬀ`/`ff`: whatever one case-insensitive checkout might merge is refused, never
 * silently overwritten.
 */
export function caseFoldPath(path: string): string {
  // Printable ASCII (output paths hold no control characters) has one-to-one case pairs and nothing
  // to normalize: lower case is the whole fold.
  if (!BEYOND_PRINTABLE_ASCII.test(path)) return path.toLowerCase();
  return path.normalize("NFC").toLowerCase().toUpperCase().toLowerCase().normalize("NFC");
}

const BEYOND_PRINTABLE_ASCII = /[^ -~]/;

export interface CollidingArtifact {
  path: string;
  template: string;
  rowIndex: number | null;
}

/** Two artifacts of one job whose paths are one file (or a file and a directory) once case is folded. */
export class PathCollisionError extends Error {
  constructor(
    readonly first: CollidingArtifact,
    readonly second: CollidingArtifact,
  ) {
    super(
      `${describe(first)} and ${describe(second)} name the same file on case-insensitive file systems (macOS, Windows)`,
    );
    this.name = "PathCollisionError";
  }
}

function describe(artifact: CollidingArtifact): string {
  const row = artifact.rowIndex === null ? "" : ` row ${artifact.rowIndex}`;
  return `${JSON.stringify(artifact.path)} (template ${artifact.template}${row})`;
}

function colliding(artifact: OutputPathOwner): CollidingArtifact {
  return { path: artifact.path, template: artifact.template.path, rowIndex: artifact.rowIndex };
}

/**
 * Throws PathCollisionError when two distinct paths fold to one, or when a file folds to a directory
 * of another path. Exactly equal paths are left to the exact rules (several patches of one file are
 * legitimate); directories whose names differ only in case are merged by such file systems without
 * losing a file, and are allowed.
 */
export function checkCaseCollisions(artifacts: readonly OutputPathOwner[]): void {
  const files = new Map<string, OutputPathOwner>();
  const folded: string[] = [];
  for (const artifact of artifacts) {
    const key = caseFoldPath(artifact.path);
    folded.push(key);
    const previous = files.get(key);
    if (previous === undefined) files.set(key, artifact);
    else if (previous.path !== artifact.path) throw new PathCollisionError(colliding(previous), colliding(artifact));
  }
  artifacts.forEach((artifact, index) => {
    const key = folded[index] as string;
    for (let slash = key.indexOf("/"); slash !== -1; slash = key.indexOf("/", slash + 1)) {
      const file = files.get(key.slice(0, slash));
      if (file !== undefined) throw new PathCollisionError(colliding(file), colliding(artifact));
    }
  });
}
