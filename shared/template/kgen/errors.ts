/** A KGEN filter or global was called with arguments it cannot handle deterministically. */
export class KgenFilterError extends Error {
  /** The filter or global that refused, e.g. `hash`. */
  readonly filter: string;

  constructor(filter: string, message: string) {
    super(`${filter}: ${message}`);
    this.name = "KgenFilterError";
    this.filter = filter;
  }
}
