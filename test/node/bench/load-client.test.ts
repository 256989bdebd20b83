import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLoadArgs } from "../../../bench/load";
import { LoadClient, LoadTally, percentile, statusClass } from "../../../bench/load-client";

describe("the load bench's tally", () => {
  it("sorts answers into 2xx, 429, other 4xx and 5xx", () => {
    expect([200, 202, 429, 404, 413, 500, 503].map(statusClass)).toEqual([
      "2xx",
      "2xx",
      "429",
      "4xx",
      "4xx",
      "5xx",
      "5xx",
    ]);
  });

  it("takes the nearest-rank percentile", () => {
    const values = Array.from({ length: 100 }, (_, index) => 100 - index);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
  });

  it("keeps the first five 5xx answers and counts every one", () => {
    const tally = new LoadTally();
    for (let i = 0; i < 7; i++) tally.record("render", 500, 1, () => `answer ${i}`);
    tally.record("render", 429, 1, () => "limited");
    expect(tally.count("5xx")).toBe(7);
    expect(tally.count("429")).toBe(1);
    expect(tally.requests()).toBe(8);
    expect(tally.serverErrors).toEqual(["answer 0", "answer 1", "answer 2", "answer 3", "answer 4"]);
  });
});

describe("a load client", () => {
  const seen: IncomingMessage[] = [];
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      res.statusCode = Number(req.url?.slice(1));
      res.end(`status ${res.statusCode}`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends its own client address and credential, records each answer, and paces its requests", async () => {
    const tally = new LoadTally();
    const client = new LoadClient(url, "10.9.0.1", tally);
    const started = performance.now();
    for (const status of [200, 429, 503])
      await client.send({ route: "probe", method: "GET", path: `/${status}`, token: "k" });
    // Two gaps of at least 60 ms between three requests.
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    expect(seen.map((req) => req.headers["cf-connecting-ip"])).toEqual(["10.9.0.1", "10.9.0.1", "10.9.0.1"]);
    expect(seen[0]?.headers.authorization).toBe("Bearer k");
    expect(tally.routes.get("probe")?.statuses).toEqual({ "2xx": 1, "429": 1, "4xx": 0, "5xx": 1 });
    expect(tally.serverErrors).toEqual(["GET /503: 503 status 503"]);
  });
});

describe("the load bench's arguments", () => {
  it("reads tenants and clients with or without --seconds", () => {
    expect(parseLoadArgs([])).toEqual({ tenants: 100, clients: 20, seconds: 20 });
    expect(parseLoadArgs(["1000", "20"])).toEqual({ tenants: 1000, clients: 20, seconds: 20 });
    expect(parseLoadArgs(["20", "5", "--seconds", "10"])).toEqual({ tenants: 20, clients: 5, seconds: 10 });
    expect(parseLoadArgs(["--seconds", "5", "30"])).toEqual({ tenants: 30, clients: 20, seconds: 5 });
    expect(() => parseLoadArgs(["0"])).toThrow("tenants");
  });
});
