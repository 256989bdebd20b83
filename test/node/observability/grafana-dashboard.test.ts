import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DATA_POINT_COLUMNS, DATA_POINT_KINDS } from "../../../workers/observability/data-points";

const dashboard = JSON.parse(
  readFileSync(new URL("../../../docs/grafana-dashboard.json", import.meta.url), "utf8"),
) as {
  panels: { title: string; targets: { query: string; datasource: { uid: string } }[] }[];
};
const wrangler = readFileSync(new URL("../../../wrangler.toml", import.meta.url), "utf8");
/** The Analytics Engine datasets wrangler.toml binds as METRICS, one per environment. */
const datasets = [...wrangler.matchAll(/binding = "METRICS"\ndataset = "([a-z0-9_]+)"/g)].map((match) => match[1]);
const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel: panel.title, ...target })));

describe("docs/grafana-dashboard.json", () => {
  it("binds a dataset for every environment", () => {
    expect(datasets).toHaveLength(3);
    expect(new Set(datasets).size).toBe(3);
  });

  it("has the panels an operator needs", () => {
    const titles = dashboard.panels.map((panel) => panel.title.toLowerCase());
    for (const wanted of ["request rate", "error rate", "p50", "p99", "top tenants"]) {
      expect(
        titles.some((title) => title.includes(wanted)),
        wanted,
      ).toBe(true);
    }
  });

  it("queries, in every panel, a dataset the Worker writes, by the columns and kinds the writer uses", () => {
    const written = new Set<string>([...Object.values(DATA_POINT_COLUMNS), "index1"]);
    expect(queries.length).toBeGreaterThanOrEqual(5);
    for (const { panel, query, datasource } of queries) {
      expect(datasource.uid, panel).toBe(`\${DS_ANALYTICS_ENGINE}`);
      const from = /\bFROM ([a-z0-9_]+)/i.exec(query)?.[1];
      expect(datasets, panel).toContain(from);
      const columns = query.match(/\b(?:blob|double|index)\d+\b/g) ?? [];
      expect(columns.length, panel).toBeGreaterThan(0);
      for (const column of columns) expect(written, `${panel}: ${column}`).toContain(column);
      const kinds = [...query.matchAll(/blob1 = '([^']*)'/g)].map((match) => match[1]);
      expect(kinds, panel).toHaveLength(1);
      for (const kind of kinds) expect(DATA_POINT_KINDS, panel).toContain(kind);
      // Sampled data: every aggregate weighs rows by _sample_interval.
      expect(query, panel).toContain("_sample_interval");
      expect(query, panel).toContain("$timeFilter");
    }
  });

  it("reads the kind from blob1 and the route from blob4, as the writer lays them out", () => {
    expect(DATA_POINT_COLUMNS.kind).toBe("blob1");
    const routed = queries.filter((q) => /\broute\b/.test(q.query));
    expect(routed.length).toBeGreaterThan(0);
    for (const { query } of routed) expect(query).toContain(`${DATA_POINT_COLUMNS.name} AS route`);
  });
});
