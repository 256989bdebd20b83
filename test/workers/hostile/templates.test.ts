import { describe, expect, it } from "vitest";
import { bearer, call, createTenant, type TestTenant } from "../helpers";
import { expectRefusedPromptly } from "./bounded";

const MEMORY = { status: 422, type: "memory-budget-exceeded" };
const NESTING = { status: 422, type: "nesting-too-deep" };
const FRONTMATTER = { status: 422, type: "invalid-frontmatter" };

/** POST /v1/render with a body given as JSON text (deep bodies cannot go through JSON.stringify here). */
const renderRaw = (tenant: TestTenant, body: string) =>
  call("/v1/render", {
    method: "POST",
    headers: { ...bearer(tenant.apiKey), "content-type": "application/json" },
    body,
  });
const render = (tenant: TestTenant, template: string, context: unknown = {}) =>
  renderRaw(tenant, JSON.stringify({ template, context }));
const putTemplate = (tenant: TestTenant, path: string, source: string) =>
  call(`/v1/templates/${path}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: source,
  });

const nestedArrays = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

async function tenants() {
  return { attacker: await createTenant(), bystander: await createTenant() };
}

describe("hostile templates: memory", () => {
  const builders: [string, string][] = [
    ["repeat of 256 MB", "{{ 'x'.repeat(268435440) | length }}"],
    ["repeat then split into 100 million characters", "{{ 'x'.repeat(100000000).split('') | length }}"],
    ["padStart to a billion", "{{ 'x'.padStart(1000000000) | length }}"],
    ["repeat of a safe string", "{{ ('x' | safe).repeat(268435440) | length }}"],
    ["repeat of a macro's output", "{% macro m() %}x{% endmacro %}{{ m().repeat(268435440) | length }}"],
    ["padEnd to a billion", "{{ 'x'.padEnd(1000000000, 'ab') | length }}"],
    [
      "[].concat doubling an array",
      "{% set a = [1] %}{% for i in range(40) %}{% set a = a.concat(a) %}{% endfor %}{{ a | length }}",
    ],
    ["string concat() of a large array", "{{ ''.concat(range(900000)) | length }}"],
    ["join of a big range (method)", "{{ range(900000).join('abcdefghijklmnopqrstuvwxyz') | length }}"],
    ["join of a big range (filter)", "{{ range(900000) | join('abcdefghijklmnopqrstuvwxyz') | length }}"],
    ["toUpperCase() tripling a long string", "{{ '\u0390'.repeat(8000000).toUpperCase() | length }}"],
    ["the upper filter tripling a long string", "{{ '\u0390'.repeat(8000000) | upper | length }}"],
    ["normalize() expanding 18 times", "{{ '\ufdfa'.repeat(1000000).normalize('NFKD') | length }}"],
    ["match() of every character", "{{ 'x'.repeat(2000000).match(r/x/g) | length }}"],
    [
      "flat() of a shared array",
      "{% set a = range(1000) %}{% set b = [] %}{% for i in range(2000) %}{% set _ = b.push(a) %}{% endfor %}{{ b.flat() | length }}",
    ],
    ["replaceAll of every position", "{{ 'x'.repeat(1000000).replaceAll('', 'abcdefghijklmnopqrstuvwxyz') | length }}"],
    ["replace with a global regex", "{{ 'x'.repeat(1000000).replace(r/x/g, 'abcdefghijklmnopqrstuvwxyz') | length }}"],
    [
      "replace filter of every position",
      "{{ 'x'.repeat(1000000) | replace('', 'abcdefghijklmnopqrstuvwxyz') | length }}",
    ],
    ["batch filled to a billion", "{{ [1] | batch(1000000000, 'x') | length }}"],
    ["slice into a billion columns", "{{ [1] | slice(1000000000) | length }}"],
    ["list of a 10 M string", "{{ 'x'.repeat(10000000) | list | length }}"],
    ["indent of a million lines", "{{ 'x\\n'.repeat(1000000) | indent(100) | length }}"],
    ["kgen indent by a long string", "{{ 'x\\n'.repeat(1000000) | indent('abcdefghijklmnopqrstuvwxyz') | length }}"],
    ["urlize of a long text", "{{ 'a.b '.repeat(4000000) | urlize | length }}"],
    ["dump of a shared big string", "{% set s = 'x'.repeat(10000000) %}{{ [s, s, s] | dump | length }}"],
    ["json of a shared big string", "{% set s = 'x'.repeat(10000000) %}{{ [s, s, s] | json | length }}"],
    ["printing an array of big strings", "{% set s = 'x'.repeat(10000000) %}{{ [s, s, s, s] }}"],
    ["an array of big strings with ~", "{% set s = 'x'.repeat(10000000) %}{{ ([s, s, s, s] ~ '') | length }}"],
    ["an array of big strings compared", "{% set s = 'x'.repeat(10000000) %}{{ [s, s, s, s] == 1 }}"],
    ["an array of big strings through upper", "{% set s = 'x'.repeat(10000000) %}{{ [s, s] | upper | length }}"],
    [
      "many distinct large strings kept in a list",
      "{% set s = 'x'.repeat(10000000) %}{% set l = [] %}{% for i in range(20) %}{% set _ = l.push(s.toUpperCase()) %}{% endfor %}{{ l | length }}",
    ],
    [
      "pushing past the array cap",
      "{% set l = [] %}{% for i in range(1000000) %}{% set _ = l.push(i, i) %}{% endfor %}{{ l | length }}",
    ],
    [
      "nested loops doubling a string through a method",
      "{% set s = 'ab' %}{% for i in range(10) %}{% for j in range(10) %}{% set s = s.concat(s) %}{% endfor %}{% endfor %}{{ s | length }}",
    ],
    [
      "a macro as replacer returning big pieces",
      "{% macro big() %}{{ 'y'.repeat(1000000) }}{% endmacro %}{{ 'x'.repeat(100).replace(r/x/g, big) | length }}",
    ],
  ];
  for (const [name, template] of builders) {
    it(`refuses ${name} with memory-budget-exceeded`, async () => {
      const { attacker, bystander } = await tenants();
      const problem = await expectRefusedPromptly(() => render(attacker, template), MEMORY, bystander);
      expect(problem.limit).toEqual(expect.any(Number));
      expect(String(problem.detail)).not.toMatch(/at |Error:|function/);
    });
  }

  it("range(1e9) stays refused by the loop budget before anything is built", async () => {
    const { attacker, bystander } = await tenants();
    const problem = await expectRefusedPromptly(
      () => render(attacker, "{{ range(1000000000) | length }}"),
      { status: 422, type: "template-budget-exceeded" },
      bystander,
    );
    expect(problem.budget).toBe("loopIterations");
  });

  it("a string doubled by ~ in nested loops stays refused by the output budget", async () => {
    const { attacker, bystander } = await tenants();
    await expectRefusedPromptly(
      () =>
        render(
          attacker,
          "{% set s = 'ab' %}{% for i in range(10) %}{% for j in range(10) %}{% set s = s ~ s %}{% endfor %}{% endfor %}",
        ),
      { status: 422, type: "template-budget-exceeded" },
      bystander,
    );
  });

  it("renders ordinary uses of the same builders exactly as before", async () => {
    const { attacker } = await tenants();
    const res = await render(
      attacker,
      "{{ 'ab'.split('').join('-') }} {{ 'abc'.replace('b', 'X') }} {{ [1,2].concat([3]) | join(',') }} {{ 'x'.repeat(3) }} {{ '5'.padStart(3, '0') }} {{ range(3) | join }} {{ [1,2,3] | batch(2, 'z') | dump }} {{ 'a\nb' | indent(2) }} {{ 'x' | center(5) }}|",
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { output: string }).output).toBe(
      'a-b aXc 1,2,3 xxx 005 012 [[1,2],[3,"z"]]   a\n  b   x  |',
    );
  });
});

describe("hostile templates: nesting", () => {
  for (const depth of [5_000, 100_000]) {
    it(`refuses a render context of arrays nested ${depth} deep`, async () => {
      const { attacker, bystander } = await tenants();
      const body = `{"template":"{{ x }}","context":{"x":${nestedArrays(depth)}}}`;
      const problem = await expectRefusedPromptly(() => renderRaw(attacker, body), NESTING, bystander);
      expect(problem.limit).toBe(128);
    });
    it(`refuses a render context of objects nested ${depth} deep`, async () => {
      const { attacker, bystander } = await tenants();
      const body = `{"template":"{{ x }}","context":{"x":${nestedObjects(depth)}}}`;
      await expectRefusedPromptly(() => renderRaw(attacker, body), NESTING, bystander);
    });
    it(`refuses generation params nested ${depth} deep (arrays and objects)`, async () => {
      const { attacker, bystander } = await tenants();
      for (const nested of [nestedArrays(depth), nestedObjects(depth)]) {
        const body = `{"graph":"g","generator":"ts","params":{"x":${nested}}}`;
        await expectRefusedPromptly(
          () =>
            call("/v1/generations", {
              method: "POST",
              headers: { ...bearer(attacker.apiKey), "content-type": "application/json" },
              body,
            }),
          NESTING,
          bystander,
        );
      }
    });
  }

  it("refuses deep JSON bodies of a graph patch (a route that parses its own body)", async () => {
    const { attacker, bystander } = await tenants();
    for (const nested of [nestedArrays(100_000), nestedObjects(100_000)]) {
      const patch = () =>
        call("/v1/graphs/g", {
          method: "PATCH",
          headers: { ...bearer(attacker.apiKey), "content-type": "application/json" },
          body: `{"add":${nested}}`,
        });
      await expectRefusedPromptly(patch, NESTING, bystander);
    }
  });

  it("accepts a context at the depth limit and refuses one level more", async () => {
    const { attacker } = await tenants();
    // the body is one level, "context" two, "x" three: the array adds the rest
    const accepted = await renderRaw(attacker, `{"template":"{{ x | length }}","context":{"x":${nestedArrays(126)}}}`);
    expect(accepted.status).toBe(200);
    const refused = await renderRaw(attacker, `{"template":"{{ x | length }}","context":{"x":${nestedArrays(127)}}}`);
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { type: string }).type).toBe("https://kgen.dev/problems/nesting-too-deep");
  });

  it("refuses values nested deep inside a template when dumped, printed or serialized", async () => {
    const { attacker, bystander } = await tenants();
    const deep = "{% set x = [] %}{% for i in range(100000) %}{% set x = [x] %}{% endfor %}";
    for (const use of ["{{ x | dump }}", "{{ x | json }}", "{{ x }}", "{{ x ~ '' }}", "{{ x | join }}"]) {
      await expectRefusedPromptly(() => render(attacker, deep + use), NESTING, bystander);
    }
  });
});

describe("hostile templates: YAML frontmatter", () => {
  const circular = "---\nx: &a [*a]\n---\nbody";
  const laughs = `---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n---\nbody`;
  const deepFlow = `---\nx: ${nestedArrays(5000)}\n---\nbody`;
  const deepBlock = `---\nx:\n${Array.from({ length: 600 }, (_, i) => `${" ".repeat(i + 1)}-`).join("\n")} 1\n---\nbody`;

  for (const [name, source, expected] of [
    ["a circular alias", circular, FRONTMATTER],
    ["a billion-laughs alias expansion", laughs, FRONTMATTER],
    ["flow collections nested 5,000 deep", deepFlow, NESTING],
    ["block sequences nested 600 deep", deepBlock, NESTING],
  ] as const) {
    it(`refuses ${name} from POST /v1/render`, async () => {
      const { attacker, bystander } = await tenants();
      const problem = await expectRefusedPromptly(() => render(attacker, source), expected, bystander);
      expect(String(problem.detail)).not.toMatch(/call stack|Stack overflow/);
    });
    it(`refuses ${name} from a template upload`, async () => {
      const { attacker, bystander } = await tenants();
      await expectRefusedPromptly(() => putTemplate(attacker, "gen/hostile.njk", source), expected, bystander);
      const stored = await call("/v1/templates/gen/hostile.njk", { headers: bearer(attacker.apiKey) });
      expect(stored.status).toBe(404);
    });
  }
});

describe("hostile templates: engine source and JavaScript error text", () => {
  it("prints functions as native code, never the engine's source", async () => {
    const { attacker } = await tenants();
    const template = [
      "{{ range.toString() }}",
      "{{ range }}",
      "{{ cycler }}",
      "{{ joiner }}",
      "{{ joiner() }}",
      "{{ cycler(1, 2).next }}",
      "{{ 'x'.repeat }}",
      "{{ [1].map }}",
      "{{ now }}",
      "{{ [range] | join }}",
      "{{ range ~ '' }}",
      "{{ range | string }}",
      "{% macro m() %}hi{% endmacro %}{{ m }}{{ m.toString() }}",
      "{% macro c() %}{{ caller }}{% endmacro %}{% call c() %}x{% endcall %}",
    ].join("|");
    const res = await render(attacker, template);
    expect(res.status).toBe(200);
    const { output } = (await res.json()) as { output: string };
    for (const piece of output.split("|")) expect(piece).toMatch(/^(function \(\) \{ \[native code\] \})+$/);
  });

  it("describes JavaScript errors raised inside the engine in template terms", async () => {
    const { attacker } = await tenants();
    for (const template of [
      "{{ missing | first | length }}",
      "{{ missing | join }}",
      "{{ 'x' | sum }}",
      "{{ 'x'.repeat(-1) }}",
      "{{ (1).toFixed(200) }}",
    ]) {
      const res = await render(attacker, template);
      const problem = (await res.json()) as { type: string; detail: string; line: number | null };
      expect(res.status).toBe(422);
      expect(problem.type).toBe("https://kgen.dev/problems/template-error");
      expect(problem.detail).not.toMatch(/TypeError|RangeError|Cannot read|is not a function|\w+\.\w+ is/);
      expect(problem.line).toBe(1);
    }
  });
});
