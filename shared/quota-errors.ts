/** A plan quota (a counter such as `triples`, `templates` or `generations`) that a change would exceed. */
export class QuotaExceededError extends Error {
  constructor(
    readonly counter: string,
    readonly limit: number,
    readonly used: number,
    message = `The plan's ${counter} quota (${limit}) would be exceeded.`,
  ) {
    super(message);
    this.name = "QuotaExceededError";
  }
}
