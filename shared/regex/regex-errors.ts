/** A pattern needs a feature the linear-time engine cannot run (back-references, lookaround, …). */
export class RegexNotSupportedError extends Error {
  override name = "RegexNotSupportedError";
  constructor(
    /** What the pattern needs: "back-reference", "lookahead", … */
    readonly feature: string,
  ) {
    super(`regular expression not supported: ${feature}`);
  }
}
