import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type * as RDF from "@rdfjs/types";
import { Parser } from "n3";
import { describe, expect, it } from "vitest";
import { sqlDatabaseFromStorage } from "../../../durable-objects/durable-object-sql-database";
import { runSparqlQuery } from "../../../shared/rdf/sparql/engine";
import { QuadStore } from "../../../shared/rdf/store/quad-store";

const TURTLE = `@prefix : <http://example.org/> .
:alice :knows :bob ; :age 30 . :bob :knows :carol ; :age 25 . :carol :age 41 .`;

describe("quad store and SPARQL inside a Durable Object (SQLite storage)", () => {
  it("stores versions, diffs and answers queries through ctx.storage.sql", async () => {
    const stub = env.TENANT.get(env.TENANT.idFromName("sparql-store-test"));
    await runInDurableObject(stub, async (_instance, state) => {
      // The object applied the tenant schema, quad store included, when it started.
      const store = new QuadStore(sqlDatabaseFromStorage(state.storage));
      const upload = (triples: RDF.Quad[], createdAt: string) => {
        const writing = store.beginUpload("people");
        return (async () => {
          try {
            for (const quad of triples) writing.add(quad);
            await writing.seal();
            return writing.commit({ createdAt });
          } finally {
            writing.close();
          }
        })();
      };
      const first = await upload(new Parser().parse(TURTLE), "2026-01-01T00:00:00Z");
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
      // A failing upload leaves nothing behind.
      await expect(
        upload([...patch, { ...patch[0], subject: { termType: "Literal", value: "x" } } as never], "t"),
      ).rejects.toThrow(/subject/);
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM rdf_staging").one().n).toBe(0);
      expect(store.latestVersion("people")?.number).toBe(2);
    });
  });
});
