// The corpus the generation benchmarks share: n entities with a label and a size, and the frontmatter that fans out over them.
import { callApi, createBenchTenant } from "./wrangler-dev";

export const ENTITY_PREFIXES = "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>";

/** Turtle with `n` entities `ex:E{i}`, labelled `entity 00042`, with a size 0–96. */
export const entityGraph = (n: number) =>
  `@prefix ex: <http://example.org/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n${Array.from(
    { length: n },
    (_, i) => `ex:E${i} a ex:Entity ; rdfs:label "entity ${String(i).padStart(5, "0")}" ; ex:size ${i % 97} .`,
  ).join("\n")}`;

/** Frontmatter writing one TypeScript file per entity, bound as `e`. */
export const ENTITY_FRONTMATTER = `---
to: "out/{{ e.name | kebabCase }}.ts"
sparql: "${ENTITY_PREFIXES} SELECT ?iri ?name ?size WHERE { ?iri a ex:Entity ; rdfs:label ?name ; ex:size ?size } ORDER BY ?name"
foreach: e
---
`;

/**
 * A new tenant on a running server with `entityGraph(entities)` as graph `model` and `template` as the
 * only template of generator `bench`; returns its API key.
 */
export async function entityTenant(
  url: string,
  tenant: { slug: string; name: string; plan: string },
  entities: number,
  template: string,
): Promise<string> {
  const secret = await createBenchTenant(url, tenant);
  await callApi(url, "PUT", "/v1/graphs/model", secret, entityGraph(entities), "text/turtle");
  await callApi(url, "PUT", "/v1/templates/bench/entity.njk", secret, template, "text/plain");
  return secret;
}
