import { Algebra } from "sparqlalgebrajs";

/** Functions whose value is not fixed by the data: NOW() reads the clock, the others draw new values. */
const VOLATILE_FUNCTIONS = new Set(["now", "rand", "uuid", "struuid", "bnode"]);

/** Operations that read beyond the endpoint's default graph (other graphs are read at their latest version). */
const DATASET_OPERATIONS = new Set<string>([Algebra.types.GRAPH, Algebra.types.FROM, Algebra.types.SERVICE]);

/**
 * Whether a query's answer is fixed by the default graph's content alone: it names no other graph
 * (GRAPH, FROM, FROM NAMED, SERVICE) and calls no function whose value changes between runs. Over a
 * pinned version, such an answer never changes, so it may be kept and served again.
 */
export function answerDependsOnlyOnDefaultGraph(operation: Algebra.Operation): boolean {
  const pending: unknown[] = [operation];
  while (pending.length > 0) {
    const node = pending.pop();
    if (Array.isArray(node)) {
      pending.push(...node);
      continue;
    }
    if (node === null || typeof node !== "object") continue;
    const record = node as { type?: unknown; expressionType?: unknown; operator?: unknown; termType?: unknown };
    // RDF terms are leaves: their fields hold no operations.
    if (typeof record.termType === "string") continue;
    if (typeof record.type === "string" && DATASET_OPERATIONS.has(record.type)) return false;
    if (
      record.expressionType === "operator" &&
      typeof record.operator === "string" &&
      VOLATILE_FUNCTIONS.has(record.operator.toLowerCase())
    ) {
      return false;
    }
    for (const value of Object.values(node)) if (value !== null && typeof value === "object") pending.push(value);
  }
  return true;
}
