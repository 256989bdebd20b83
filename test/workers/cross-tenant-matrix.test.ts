import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { countedCall } from "./central-calls";
import { ADMIN_TOKEN, bearer, call, createKey, createTenant, expectProblem, jsonBody } from "./helpers";
import { runJob } from "./job-helpers";

/** Tenant A's owner credentials against every tenant-scoped route, with tenant B's ids. */
describe("cross-tenant matrix", () => {
  it("answers 404 for every route that names another tenant's resource, and lists nothing of it", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const bKey = await createKey(b, "viewer");
    await call("/v1/members/bob%40idp", jsonBody({ role: "viewer" }, b.apiKey, "PUT"));
    // Owners are guarded by their own rules (owner-only, never the last): another tenant's are still just 404.
    await call("/v1/members/boss%40idp", jsonBody({ role: "owner" }, b.apiKey, "PUT"));
    const bOwnerKey = await createKey(b, "owner");
    await call("/v1/templates/gen/t.njk", {
      method: "PUT",
      headers: { ...bearer(b.apiKey), "content-type": "text/plain" },
      body: '---\nto: "out/{{ r.s | kebabCase }}.txt"\nsparql: "SELECT ?s WHERE { ?s ?p ?o }"\nforeach: r\n---\n{{ r.s }}',
    });
    await call("/v1/graphs/g", {
      method: "PUT",
      headers: { ...bearer(b.apiKey), "content-type": "application/n-triples" },
      body: "<http://e/s> <http://e/p> <http://e/o> .",
    });
    const job = await runJob(b.apiKey, { graph: "g", generator: "gen" });
    expect(job.status).toBe("completed");
    const { items } = (await (await call(`/v1/jobs/${job.id}/artifacts`, { headers: bearer(b.apiKey) })).json()) as {
      items: { id: string; sha256: string }[];
    };
    const artifact = items[0]?.id as string;
    const envelope = await (await call(`/v1/artifacts/${artifact}/attestation`, { headers: bearer(b.apiKey) })).json();
    const trigger = (await (
      await call(
        "/v1/triggers",
        jsonBody({ name: "b-trigger", verify: "github", action: { generator: "gen", graph: "g" } }, b.apiKey),
      )
    ).json()) as { id: string };
    const webhook = (await (
      await call("/v1/webhooks", jsonBody({ url: "http://127.0.0.1:9/hook", events: ["job.*"] }, b.apiKey))
    ).json()) as { id: string };
    const monitor = (await (
      await call(
        "/v1/monitors",
        jsonBody({ name: "b-monitor", target: { job: job.id }, source: { kind: "graph" } }, b.apiKey),
      )
    ).json()) as { id: string };
    const { deliveryId } = (await (
      await call(`/v1/webhooks/${webhook.id}/test`, { method: "POST", headers: bearer(b.apiKey) })
    ).json()) as { deliveryId: string };

    const driftReport = (await (await call("/v1/drift", jsonBody({ job: job.id, files: [] }, b.apiKey))).json()) as {
      id: string;
    };

    // A's archive holds A's tenant only: no entry names or contains anything of B's.
    const exported = await call("/v1/export", { headers: bearer(a.apiKey) });
    expect(exported.status).toBe(200);
    const entries = unzipSync(new Uint8Array(await exported.arrayBuffer()));
    for (const [name, bytes] of Object.entries(entries)) {
      const content = `${name}\n${new TextDecoder().decode(bytes)}`;
      for (const id of [b.id, job.id, artifact, webhook.id, monitor.id, "b-monitor", '"gen"', "<http://e/s>"])
        expect(content, `export entry ${name} leaks ${id}`).not.toContain(id);
    }
    const json = (body: unknown, method = "POST") => ({
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = (body: string, type: string, method = "PUT") => ({ method, headers: { "content-type": type }, body });
    const routes: [string, RequestInit][] = [
      [`/v1/api-keys/${bKey.apiKey.id}`, { method: "DELETE" }],
      ["/v1/members/bob%40idp", { method: "DELETE" }],
      ["/v1/members/boss%40idp", { method: "DELETE" }],
      [`/v1/api-keys/${bOwnerKey.apiKey.id}`, { method: "DELETE" }],
      ["/v1/templates/gen/t.njk", {}],
      ["/v1/templates/gen/t.njk", { method: "DELETE" }],
      ["/v1/generators/gen", {}],
      ["/v1/generators/gen", json({ options: { throwOnUndefined: true } }, "PATCH")],
      ["/v1/graphs/g", {}],
      ["/v1/graphs/g", { method: "DELETE" }],
      ["/v1/graphs/g", text("INSERT DATA { <http://e/x> <http://e/y> 1 }", "application/sparql-update", "PATCH")],
      ["/v1/graphs/g/versions", {}],
      ["/v1/graphs/g/versions/1", {}],
      ["/v1/graphs/g/versions/latest", {}],
      ["/v1/graphs/g", { headers: { accept: "text/turtle" } }],
      ["/v1/graphs/g/sparql", text("INSERT DATA { <http://e/x> <http://e/y> 1 }", "application/sparql-update", "POST")],
      ["/v1/graphs/g/sparql", text("update=CLEAR%20DEFAULT", "application/x-www-form-urlencoded", "POST")],
      ["/v1/graphs/g/store?default", {}],
      ["/v1/graphs/g/store?default", { method: "DELETE" }],
      ["/v1/graphs/g/diff?from=0&to=1", {}],
      ["/v1/graphs/g/sparql?query=ASK%20%7B%7D", {}],
      ["/v1/graphs/g/validate", text("@prefix sh: <http://www.w3.org/ns/shacl#> .", "text/turtle", "POST")],
      ["/v1/jobs", json({ graph: "g", generator: "gen" })],
      ["/v1/generations", json({ graph: "g", generator: "gen" })],
      ["/v1/jobs", json({ job: job.id, only: "affected" })],
      ["/v1/generations", json({ job: job.id, version: 1, only: "affected" })],
      ["/v1/render", json({ templatePath: "gen/t.njk" })],
      ["/v1/render", json({ templatePath: "gen/t.njk", graph: "g" })],
      ["/v1/render", json({ template: "x", graph: "g" })],
      [`/v1/jobs/${job.id}`, {}],
      [`/v1/jobs/${job.id}/artifacts`, {}],
      [`/v1/jobs/${job.id}/bundle`, {}],
      [`/v1/jobs/${job.id}/diff/${job.id}`, {}],
      [`/v1/jobs/${job.id}/diff/${job.id}`, { headers: { accept: "text/x-diff" } }],
      [`/v1/jobs/${job.id}/impact`, {}],
      [`/v1/jobs/${job.id}/pin`, { method: "POST" }],
      [`/v1/jobs/${job.id}/pin`, { method: "DELETE" }],
      [`/v1/artifacts/${artifact}`, {}],
      [`/v1/artifacts/${artifact}/attestation`, {}],
      [`/v1/artifacts/${artifact}/explain`, {}],
      ["/v1/verify", json({ artifact, envelope })],
      ["/v1/drift", json({ job: job.id, files: [] })],
      [`/v1/drift/${driftReport.id}`, {}],
      [`/v1/triggers/${trigger.id}`, {}],
      [`/v1/triggers/${trigger.id}`, { method: "DELETE" }],
      [`/v1/webhooks/${webhook.id}`, {}],
      [`/v1/webhooks/${webhook.id}`, json({ description: "taken" }, "PATCH")],
      [`/v1/webhooks/${webhook.id}`, { method: "DELETE" }],
      [`/v1/webhooks/${webhook.id}/rotate-secret`, { method: "POST" }],
      [`/v1/webhooks/${webhook.id}/test`, { method: "POST" }],
      [`/v1/webhooks/${webhook.id}/deliveries`, {}],
      [`/v1/webhooks/${webhook.id}/deliveries/${deliveryId}`, {}],
      [`/v1/webhooks/${webhook.id}/deliveries/${deliveryId}/redeliver`, { method: "POST" }],
      [`/v1/monitors/${monitor.id}`, {}],
      [`/v1/monitors/${monitor.id}`, json({ enabled: false }, "PATCH")],
      [`/v1/monitors/${monitor.id}`, { method: "DELETE" }],
      [`/v1/monitors/${monitor.id}/runs`, {}],
      [`/v1/monitors/${monitor.id}/trend`, {}],
      ["/v1/monitors", json({ name: "a-monitor", target: { job: job.id }, source: { kind: "graph" } })],
    ];
    for (const [path, init] of routes) {
      const res = await call(path, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), ...bearer(a.apiKey) },
      });
      expect(`${path} ${res.status}`).toBe(`${path} 404`);
      const problem = await expectProblem(res, 404, "not-found");
      expect(problem.instance, path).toBeTruthy();
    }

    for (const list of [
      "/v1/api-keys",
      "/v1/members",
      "/v1/templates",
      "/v1/generators",
      "/v1/graphs",
      "/v1/jobs",
      "/v1/events",
      "/v1/events?types=*",
      "/v1/audit-log",
      "/v1/triggers",
      "/v1/webhooks",
      "/v1/drift",
      `/v1/drift?job=${job.id}`,
      "/v1/monitors",
    ]) {
      const body = JSON.stringify(await (await call(list, { headers: bearer(a.apiKey) })).json());
      for (const id of [
        b.id,
        bKey.apiKey.id,
        job.id,
        artifact,
        trigger.id,
        webhook.id,
        monitor.id,
        deliveryId,
        driftReport.id,
        "bob@idp",
        '"gen"',
        '"g"',
      ])
        expect(body, `${list} leaks ${id}`).not.toContain(id);
    }
    // B's resources are untouched.
    const bJob = (await (await call(`/v1/jobs/${job.id}`, { headers: bearer(b.apiKey) })).json()) as {
      pinned: boolean;
    };
    expect(bJob.pinned).toBe(false);
    expect((await call("/v1/graphs/g", { headers: bearer(b.apiKey) })).status).toBe(200);
    expect((await call(`/v1/triggers/${trigger.id}`, { headers: bearer(b.apiKey) })).status).toBe(200);
    expect((await call(`/v1/webhooks/${webhook.id}`, { headers: bearer(b.apiKey) })).status).toBe(200);
    expect((await call(`/v1/monitors/${monitor.id}`, { headers: bearer(b.apiKey) })).status).toBe(200);
    // Another tenant's metered usage holds none of B's work (a fresh one: A has used up its request rate),
    // and the billing export is the operator's only.
    const c = await createTenant();
    const cUsageResponse = await call("/v1/usage", { headers: bearer(c.apiKey) });
    expect(cUsageResponse.status, await cUsageResponse.clone().text()).toBe(200);
    const cUsage = (await cUsageResponse.json()) as {
      usage: { month: string; figures: { metric: string; value: number }[] };
    };
    expect(Object.fromEntries(cUsage.usage.figures.map((figure) => [figure.metric, figure.value]))).toMatchObject({
      triplesPeak: 0,
      templates: 0,
      jobs: 0,
      artifacts: 0,
      webhookDeliveries: 0,
      driftRuns: 0,
    });
    await expectProblem(
      await call(`/v1/admin/usage?month=${cUsage.usage.month}`, { headers: bearer(a.apiKey) }),
      401,
      "unauthorized",
    );
  });

  it("immutable reads another tenant cached at this location answer 404", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const template = await call("/v1/templates/gen/t.njk", {
      method: "PUT",
      headers: { ...bearer(b.apiKey), "content-type": "text/plain" },
      body: "---\nto: t.txt\n---\nB's source",
    });
    const templateHash = ((await template.json()) as { hash: string }).hash;
    const graph = await call("/v1/graphs/g", {
      method: "PUT",
      headers: { ...bearer(b.apiKey), "content-type": "application/n-triples" },
      body: "<http://e/s> <http://e/p> <http://e/o> .",
    });
    const graphHash = ((await graph.json()) as { hash: string }).hash;
    const pinnedReads: [string, Record<string, string>][] = [
      [`/v1/graphs/g/versions/1?hash=${graphHash}`, { accept: "application/n-triples" }],
      [`/v1/graphs/g/sparql?query=ASK%20%7B%7D&version=1&hash=${graphHash}`, {}],
      [`/v1/template-sources/${templateHash}`, {}],
    ];
    for (const [path, headers] of pinnedReads) {
      // countedCall waits for the response's deferred work, the cache write among it.
      expect((await countedCall(path, { headers: bearer(b.apiKey, headers) })).response.status, path).toBe(200);
      const cached = await countedCall(path, { headers: bearer(b.apiKey, headers) });
      expect(cached.response.headers.get("x-kgen-edge-cache"), path).toBe("hit");
      const res = await call(path, { headers: bearer(a.apiKey, headers) });
      expect(`${path} ${res.status}`).toBe(`${path} 404`);
      expect(res.headers.get("x-kgen-edge-cache")).toBeNull();
      await expectProblem(res, 404, "not-found");
    }
  });

  it("flags: another tenant's are out of reach, and /v1/me shows only the caller's", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const put = await call(
      `/v1/tenants/${b.id}/flags`,
      jsonBody({ overrides: { webhooks: false } }, ADMIN_TOKEN, "PUT"),
    );
    expect(put.status).toBe(200);
    await expectProblem(await call(`/v1/tenants/${b.id}/flags`, { headers: bearer(a.apiKey) }), 401, "unauthorized");
    await expectProblem(
      await call(`/v1/tenants/${b.id}/flags`, jsonBody({ overrides: {} }, a.apiKey, "PUT")),
      401,
      "unauthorized",
    );
    const me = (await (await call("/v1/me", { headers: bearer(a.apiKey) })).json()) as { flags: { webhooks: boolean } };
    expect(me.flags.webhooks).toBe(true);
    expect(
      (await call("/v1/webhooks", jsonBody({ url: "http://127.0.0.1:9/hook", events: ["job.*"] }, a.apiKey))).status,
    ).toBe(201);
  });

  it("operator metrics: no tenant credential opens them, and no tenant's ids are in them", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const bJob = `job_${crypto.randomUUID().replaceAll("-", "")}`;
    expect((await call(`/v1/jobs/${bJob}`, { headers: bearer(b.apiKey) })).status).toBe(404);
    for (const tenant of [a, b]) {
      await expectProblem(await call("/v1/admin/metrics", { headers: bearer(tenant.apiKey) }), 401, "unauthorized");
    }
    const text = await (await call("/v1/admin/metrics", { headers: bearer(ADMIN_TOKEN) })).text();
    for (const id of [a.id, b.id, a.apiKey, b.apiKey, bJob]) expect(text).not.toContain(id);
  });

  it("streams and tickets stay within the credential's tenant", async () => {
    const a = await createTenant();
    const b = await createTenant();
    for (const tenant of [b, a]) {
      await call("/v1/graphs/g", {
        method: "PUT",
        headers: { ...bearer(tenant.apiKey), "content-type": "application/n-triples" },
        body: "<http://e/s> <http://e/p> <http://e/o> .",
      });
    }
    const bTicket = (
      (await (await call("/v1/events/tickets", { method: "POST", headers: bearer(b.apiKey) })).json()) as {
        ticket: string;
      }
    ).ticket;
    // B's ticket under A's name is unknown to A's object; with A's key it is refused outright.
    await expectProblem(
      await call(`/v1/events/stream?ticket=${encodeURIComponent(bTicket.replace(b.id, a.id))}`),
      401,
      "invalid-ticket",
    );
    await expectProblem(
      await call(`/v1/events/stream?ticket=${encodeURIComponent(bTicket)}`, { headers: bearer(a.apiKey) }),
      400,
      "ambiguous-credential",
    );
    const res = await call("/v1/events/stream?after=0", { headers: bearer(a.apiKey) });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    await reader.cancel();
    const text = new TextDecoder().decode(value);
    expect(text).toContain(`/tenants/${a.id}`);
    expect(text).not.toContain(b.id);
  });
});
