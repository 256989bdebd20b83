import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Parser } from "n3";
import { describe, expect, it } from "vitest";
import { runSparqlQuery } from "../../../shared/rdf/sparql/engine";
import { migrateQuadStore, QuadStore } from "../../../shared/rdf/store/quad-store";
import { durableObjectSqlDatabase } from "../../../shared/rdf/store/sql-database";

const TURTLE = `@prefix : <http://example.org/> .
:alice :knows :bob ; :age 30 . :bob :knows :carol ; :age 25 . :carol :age 41 .`;

describe("quad store and SPARQL inside a Durable Object (SQLite storage)", () => {
  it("stores versions, diffs and answers queries through ctx.storage.sql", async () => {
    const stub = env.TENANT.get(env.TENANT.idFromName("sparql-store-test"));
    await runInDurableObject(stub, (_instance, state) => {
      const db = durableObjectSqlDatabase(state.storage);
      migrateQuadStore(db);
      migrateQuadStore(db);
      const store = new QuadStore(db);
      const first = store.replaceGraph("people", new Parser().parse(TURTLE), { createdAt: "2026-01-01T00:00:00Z" });
      expect(first.version).toMatchObject({ number: 1, tripleCount: 5 });
      const patch = new Parser().parse("@prefix : <http://example.org/> . :dave :age 19 .");
      store.applyPatch("people", { add: patch }, { createdAt: "2026-01-02T00:00:00Z" });
      expect(store.diffVersions("people", 1, 2).added).toHaveLength(1);
      const result = runSparqlQuery(
        store,
        "PREFIX : <http://example.org/> SELECT ?p (COUNT(?f) AS ?n) WHERE { ?p :age ?a FILTER(?a > 20) OPTIONAL { ?p :knows+ ?f } } GROUP BY ?p ORDER BY ?p",
        { dataset: { defaultGraph: [store.graphRef("people", 1)], namedGraphs: [] }, now: new Date(0) },
      );
      if (result.type !== "bindings") throw new Error("bindings expected");
      expect(result.bindings.map((row) => `${row.get("p")?.value} ${row.get("n")?.value}`)).toEqual([
        "http://example.org/alice 2",
        "http://example.org/bob 1",
        "http://example.org/carol 0",
      ]);
      // A failing upload leaves nothing behind (transactionSync rolls back).
      expect(() =>
        store.replaceGraph("people", [{ ...patch[0], subject: { termType: "Literal", value: "x" } } as never], {
          createdAt: "t",
        }),
      ).toThrow();
      expect(store.latestVersion("people")?.number).toBe(2);
    });
  });
});
