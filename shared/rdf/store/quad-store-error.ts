/** A request the store cannot serve: an unknown graph or version, or a triple it cannot hold. */
export class QuadStoreError extends Error {
  override name = "QuadStoreError";
  constructor(
    readonly code: "graph-not-found" | "version-not-found" | "invalid-term",
    message: string,
  ) {
    super(message);
  }
}
