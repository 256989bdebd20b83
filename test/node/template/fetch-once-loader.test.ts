import { describe, expect, it } from "vitest";
import { WorkBudgetExceededError } from "../../../shared/core/budget-errors";
import { asyncLoader, createEngine } from "../../../shared/template/engine";
import { fetchOnceLoader, MAX_TEMPLATE_LOADS } from "../../../shared/template/fetch-once-loader";

const SOURCES: Record<string, string> = {
  "item.njk": "[{{ i }}]",
  "macros.njk": "{% macro tag(x) %}<{{ x }}>{% endmacro %}",
  "base.njk": "head {% block body %}{% endblock %} tail",
};

/** A storage read that takes a turn of the event loop, like D1 or R2. */
function countingFetch() {
  const names: string[] = [];
  const fetch = async (name: string) => {
    names.push(name);
    await new Promise((resolve) => setTimeout(resolve, 0));
    return SOURCES[name] ?? null;
  };
  return { names, fetch };
}

// `for` asks for every include before the first fetch answers; `asyncEach` waits for each one.
const LOOPS = [
  "{% for i in range(5000) %}{% include 'item.njk' %}{% endfor %}",
  "{% for i in range(5000) %}{% include 'item.njk' ignore missing %}{% include 'gone.njk' ignore missing %}{% endfor %}",
  "{% for i in range(2000) %}{% import 'macros.njk' as m %}{{ m.tag(i) }}{% endfor %}",
  "{% for i in range(2000) %}{% from 'macros.njk' import tag %}{{ tag(i) }}{% endfor %}",
  "{% extends 'base.njk' %}{% block body %}{% for i in range(5000) %}{% include 'item.njk' %}{% endfor %}{% endblock %}",
  "{% asyncEach i in range(150) %}{% include 'item.njk' %}{% endeach %}",
  "{% asyncEach i in range(150) %}{% import 'macros.njk' as m %}{{ m.tag(i) }}{% endeach %}",
];

describe("fetchOnceLoader", () => {
  it.each(LOOPS)("fetches each template once and renders as the plain async loader does: %s", async (template) => {
    const plain = countingFetch();
    const expected = await createEngine({ loader: asyncLoader(plain.fetch) }).renderStringAsync(template, {});
    const once = countingFetch();
    const loader = fetchOnceLoader(once.fetch);
    const output = await createEngine({ loader }).renderStringAsync(template, {});
    expect(output).toBe(expected);
    expect(new Set(once.names).size).toBe(once.names.length);
    expect(loader.fetches).toBe(once.names.length);
    expect(loader.fetches).toBe(new Set(plain.names).size);
  });

  it("renders 5,000 includes of one template with one fetch, where the plain loader made 5,000", async () => {
    const template = "{% for i in range(5000) %}{% include 'item.njk' %}{% endfor %}";
    const plain = countingFetch();
    await createEngine({ loader: asyncLoader(plain.fetch) }).renderStringAsync(template, {});
    expect(plain.names).toHaveLength(5000);
    const { names, fetch } = countingFetch();
    await createEngine({ loader: fetchOnceLoader(fetch) }).renderStringAsync(template, {});
    expect(names).toEqual(["item.njk"]);
  });

  it("renders what each include gives, fetched once", async () => {
    const { names, fetch } = countingFetch();
    const output = await createEngine({ loader: fetchOnceLoader(fetch) }).renderStringAsync(
      "{% asyncEach i in range(150) %}{% include 'item.njk' %}{% endeach %}",
      {},
    );
    expect(names).toEqual(["item.njk"]);
    expect(output).toBe(Array.from({ length: 150 }, (_, i) => `[${i}]`).join(""));
  });

  it("refuses more distinct templates than the limit, missing names included", async () => {
    const { names, fetch } = countingFetch();
    const loader = fetchOnceLoader(fetch);
    const render = createEngine({ loader }).renderStringAsync(
      "{% for i in range(5000) %}{% include 'part' ~ i ignore missing %}{% endfor %}",
      {},
    );
    await expect(render).rejects.toThrow();
    expect(loader.exceeded).toBeInstanceOf(WorkBudgetExceededError);
    expect(loader.exceeded).toMatchObject({ subject: "template loads", limit: MAX_TEMPLATE_LOADS });
    expect(names.length).toBe(MAX_TEMPLATE_LOADS);
  });

  it("accepts exactly the limit of distinct templates and refuses one more", async () => {
    const limit = 5;
    const template = (n: number) => `{% for i in range(${n}) %}{% include 'part' ~ i ignore missing %}{% endfor %}done`;
    const within = fetchOnceLoader(countingFetch().fetch, limit);
    expect(await createEngine({ loader: within }).renderStringAsync(template(limit), {})).toBe("done");
    expect(within.exceeded).toBeNull();
    const beyond = fetchOnceLoader(countingFetch().fetch, limit);
    await expect(createEngine({ loader: beyond }).renderStringAsync(template(limit + 1), {})).rejects.toThrow();
    expect(beyond.exceeded).toBeInstanceOf(WorkBudgetExceededError);
  });

  it("passes a failed fetch on as the render's error", async () => {
    const loader = fetchOnceLoader(async () => {
      throw new Error("storage unavailable");
    });
    await expect(createEngine({ loader }).renderStringAsync("{% include 'x' %}", {})).rejects.toThrow(
      /storage unavailable/,
    );
  });
});
