import { describe, expect, it } from "vitest";
import { MAX_REGEX_PATTERN_LENGTH } from "../../../shared/regex/linear-regex";
import { bearer, call, createKey, createTenant, jsonBody, type TestTenant } from "../helpers";
import { expectRefusedPromptly, HOSTILE_BOUND_MS } from "./bounded";

// Patterns that backtrack exponentially on JavaScript's engine, with text that makes them fail late
// (`text`, no match), and a text they match with what a replace of the match gives. Expected values
// are written out: computing them with JavaScript's RegExp would backtrack in the test itself.
const CATASTROPHIC: Array<{ pattern: string; text: string; matching: string; replaced: string; at: number }> = [
  { pattern: "(a+)+$", text: `${"a".repeat(40)}!`, matching: `b${"a".repeat(40)}`, replaced: "bx", at: 1 },
  { pattern: "(a|aa)+$", text: `${"a".repeat(40)}!`, matching: `b${"a".repeat(40)}`, replaced: "bx", at: 1 },
  {
    pattern: "(.*a){20}",
    text: "a".repeat(19) + "b".repeat(40),
    matching: "a".repeat(20) + "b".repeat(40),
    replaced: `x${"b".repeat(40)}`,
    at: 0,
  },
  { pattern: "^(([a-z])+.)+[A-Z]([a-z])+$", text: `${"a".repeat(40)}!`, matching: "aabCde", replaced: "x", at: 0 },
];

const render = (tenant: TestTenant, template: string, context: Record<string, unknown>) =>
  call("/v1/render", jsonBody({ template, context }, tenant.apiKey));

function putGraph(tenant: TestTenant, name: string, turtle: string) {
  return call(`/v1/graphs/${name}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: turtle,
  });
}

const sparql = (credential: string, graph: string, query: string) =>
  call(`/v1/graphs/${graph}/sparql?query=${encodeURIComponent(query)}`, {
    headers: bearer(credential, { accept: "application/sparql-results+json" }),
  });

const validate = (tenant: TestTenant, graph: string, shapes: string) =>
  call(`/v1/graphs/${graph}/validate`, {
    method: "POST",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: shapes,
  });

/** Runs `request` and asserts it is answered with 200 within the hostile bound; returns the JSON body. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies of several routes
async function expectAnsweredPromptly(request: () => Promise<Response>): Promise<{ body: any; ms: number }> {
  const started = performance.now();
  const res = await request();
  const ms = performance.now() - started;
  expect(res.status, await res.clone().text()).toBe(200);
  expect(ms).toBeLessThan(HOSTILE_BOUND_MS);
  return { body: await res.json(), ms };
}

const sparqlString = (text: string) => JSON.stringify(text);
// biome-ignore lint/suspicious/noExplicitAny: SPARQL JSON results
const bindingValue = (body: any, name: string) => body.results.bindings[0]?.[name]?.value;

describe("regular expressions from requests run on a linear-time engine", () => {
  describe("templates (POST /v1/render)", () => {
    it.each(CATASTROPHIC)(
      "answers r/$pattern/ correctly and promptly",
      async ({ pattern, text, matching, replaced, at }) => {
        const tenant = await createTenant();
        const template = `{{ s | replace(r/${pattern}/, "x") }}|{{ s.replace(r/${pattern}/g, "x") }}|{{ r/${pattern}/.test(s) }}|{{ s.search(r/${pattern}/) }}`;
        const hostile = await expectAnsweredPromptly(() => render(tenant, template, { s: text }));
        expect(hostile.body.output).toBe(`${text}|${text}|false|-1`);
        const split = await expectAnsweredPromptly(() =>
          render(tenant, `{{ s.split(r/${pattern}/) | length }}`, { s: text }),
        );
        expect(split.body.output).toBe("1");
        const matched = await expectAnsweredPromptly(() => render(tenant, template, { s: matching }));
        expect(matched.body.output).toBe(`${replaced}|${replaced}|true|${at}`);
      },
    );

    it("answers string patterns of match and search on the linear engine", async () => {
      const tenant = await createTenant();
      const text = `${"a".repeat(40)}!`;
      const { body } = await expectAnsweredPromptly(() =>
        render(tenant, "{{ s.match(p) | dump }}|{{ s.search(q) }}", { s: text, p: "(a+)+$", q: "(a|aa)+!" }),
      );
      expect(body.output).toBe("null|0");
    });

    it.each([
      ['{{ s | replace(r/(a)\\1/, "x") }}', "back-reference"],
      ['{{ s | replace(r/a(?=b)/, "x") }}', "lookahead"],
      ['{{ s.match("(?<=a)b") }}', "lookbehind"],
      ['{{ s | replace(r/(a*)*b/, "x") }}', "a capturing group in a repeated group that can match the empty string"],
    ])("refuses %s with 422 regex-not-supported", async (template, feature) => {
      const [tenant, bystander] = await Promise.all([createTenant(), createTenant()]);
      const problem = await expectRefusedPromptly(
        () => render(tenant, template, { s: "aab" }),
        { status: 422, type: "regex-not-supported" },
        bystander,
      );
      expect(problem.feature).toBe(feature);
      expect(String(problem.detail)).not.toMatch(/at .*\.(ts|js)|RE2JS|Exception/);
    });

    it("refuses a pattern over the length limit and a global replace that rescans without end", async () => {
      const [tenant, bystander] = await Promise.all([createTenant(), createTenant()]);
      const tooLong = await expectRefusedPromptly(
        () => render(tenant, "{{ s.search(p) }}", { s: "a", p: "a".repeat(MAX_REGEX_PATTERN_LENGTH + 1) }),
        { status: 422, type: "work-budget-exceeded" },
        bystander,
      );
      expect(tooLong.limit).toBe(MAX_REGEX_PATTERN_LENGTH);
      await expectRefusedPromptly(
        () => render(tenant, '{{ s | replace(r/a.*b|a/g, "x") }}', { s: "a".repeat(30_000) }),
        { status: 422, type: "work-budget-exceeded" },
        bystander,
      );
    });
  });

  describe("SPARQL REGEX and REPLACE, with a viewer key", () => {
    it("answers catastrophic patterns over query literals and stored data correctly and promptly", async () => {
      const tenant = await createTenant();
      const viewer = (await createKey(tenant, "viewer")).secret;
      const stored = `${"a".repeat(5000)}!`;
      expect(
        (await putGraph(tenant, "text", `<http://example.org/s> <http://example.org/p> "${stored}" .`)).status,
      ).toBe(201);
      for (const { pattern, text, matching, replaced } of CATASTROPHIC) {
        for (const [input, matches, result] of [
          [text, false, text],
          [matching, true, replaced],
        ] as const) {
          const literal = await expectAnsweredPromptly(() =>
            sparql(
              viewer,
              "text",
              `SELECT (REGEX(${sparqlString(input)}, ${sparqlString(pattern)}) AS ?m) (REPLACE(${sparqlString(input)}, ${sparqlString(pattern)}, "x") AS ?r) {}`,
            ),
          );
          expect(bindingValue(literal.body, "m"), pattern).toBe(String(matches));
          expect(bindingValue(literal.body, "r"), pattern).toBe(result);
        }
        const overData = await expectAnsweredPromptly(() =>
          sparql(
            viewer,
            "text",
            `SELECT (REGEX(?o, ${sparqlString(pattern)}) AS ?m) (STRLEN(REPLACE(?o, ${sparqlString(pattern)}, "x")) AS ?n) { ?s ?p ?o }`,
          ),
        );
        // 5,000 a's hold twenty: (.*a){20} matches all but the "!"
        const twenty = pattern === "(.*a){20}";
        expect(bindingValue(overData.body, "m"), pattern).toBe(String(twenty));
        expect(Number(bindingValue(overData.body, "n")), pattern).toBe(twenty ? 2 : stored.length);
      }
    }, 60_000);

    it("refuses back-references and lookaround with 422 regex-not-supported", async () => {
      const [tenant, bystander] = await Promise.all([createTenant(), createTenant()]);
      const viewer = (await createKey(tenant, "viewer")).secret;
      await putGraph(tenant, "g", '<http://example.org/s> <http://example.org/p> "aab" .');
      for (const [pattern, feature] of [
        ["(a)\\\\1", "back-reference"],
        ["a(?=b)", "lookahead"],
        ["(?<!a)b", "lookbehind"],
      ]) {
        const problem = await expectRefusedPromptly(
          () => sparql(viewer, "g", `SELECT ?s { ?s ?p ?o FILTER(REGEX(?o, "${pattern}")) }`),
          { status: 422, type: "regex-not-supported" },
          bystander,
        );
        expect(problem.feature).toBe(feature);
      }
    });

    it("stops a REPLACE that rescans stored text without end", async () => {
      const [tenant, bystander] = await Promise.all([createTenant(), createTenant()]);
      await putGraph(tenant, "long", `<http://example.org/s> <http://example.org/p> "${"a".repeat(30_000)}" .`);
      await expectRefusedPromptly(
        () => sparql(tenant.apiKey, "long", 'SELECT (REPLACE(?o, "a.*b|a", "x") AS ?r) { ?s ?p ?o }'),
        { status: 422, type: "work-budget-exceeded" },
        bystander,
      );
    });
  });

  describe("SHACL sh:pattern (POST /v1/graphs/{name}/validate)", () => {
    const shapes = (pattern: string) => `@prefix sh: <http://www.w3.org/ns/shacl#> .
<http://example.org/S> a sh:NodeShape ; sh:targetSubjectsOf <http://example.org/p> ;
  sh:property [ sh:path <http://example.org/p> ; sh:pattern ${sparqlString(pattern)} ] .`;

    it("answers catastrophic patterns correctly and promptly", async () => {
      const tenant = await createTenant();
      const stored = `${"a".repeat(5000)}!`;
      await putGraph(tenant, "text", `<http://example.org/s> <http://example.org/p> "${stored}" .`);
      for (const { pattern } of CATASTROPHIC) {
        const { body } = await expectAnsweredPromptly(() => validate(tenant, "text", shapes(pattern)));
        if (pattern === "(.*a){20}") expect(body.conforms).toBe(true);
        else
          expect(body.results[0].sourceConstraintComponent).toBe(
            "http://www.w3.org/ns/shacl#PatternConstraintComponent",
          );
      }
      const { body } = await expectAnsweredPromptly(() => validate(tenant, "text", shapes("^(a+)+!$")));
      expect(body.conforms).toBe(true);
    });

    it("refuses back-references and lookaround with 422 regex-not-supported", async () => {
      const [tenant, bystander] = await Promise.all([createTenant(), createTenant()]);
      await putGraph(tenant, "g", '<http://example.org/s> <http://example.org/p> "aab" .');
      for (const pattern of ["(a)\\1", "a(?=b)", "(?<=a)b"]) {
        await expectRefusedPromptly(
          () => validate(tenant, "g", shapes(pattern)),
          { status: 422, type: "regex-not-supported" },
          bystander,
        );
      }
    });
  });
});
