/** A template reads the graph (frontmatter `sparql:`/`query:`, `sparql()`, `label()`) where none was given. */
export class GraphRequiredError extends Error {
  constructor(what: string) {
    super(`${what} reads a graph: name one (graph, and optionally version) to render it`);
    this.name = "GraphRequiredError";
  }
}
