import type * as RDF from "@rdfjs/types";
import { Parser } from "n3";
import { migrateQuadStore, QuadStore } from "../../shared/rdf/store/quad-store";
import { nodeSqlDatabase } from "./node-sql-database";

/** A fresh in-memory quad store (node:sqlite), optionally with graphs loaded from Turtle. */
export function memoryQuadStore(graphs: Record<string, string | Iterable<RDF.Quad>> = {}): QuadStore {
  const db = nodeSqlDatabase();
  migrateQuadStore(db);
  const store = new QuadStore(db);
  for (const [name, content] of Object.entries(graphs)) {
    const triples = typeof content === "string" ? new Parser().parse(content) : content;
    store.replaceGraph(name, triples, { createdAt: "2026-01-01T00:00:00Z" });
  }
  return store;
}
