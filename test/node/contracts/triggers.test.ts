import { describe, expect, it } from "vitest";
import { createTriggerSchema, parseTriggerAction, TRIGGER_JOB_PARAMS } from "../../../shared/contracts/triggers";
import { filterDelivery } from "../../../workers/triggers/delivery-filter";

describe("trigger actions", () => {
  it("parses a generation and a graph sync, and names the fields of the shape an action chose", () => {
    expect(
      parseTriggerAction({ generator: "site", graph: "model", params: { repo: "/repository/name" } }).success,
    ).toBe(true);
    expect(
      parseTriggerAction({
        syncGraph: { graph: "model", urlTemplate: "https://h.example/{after}.ttl", format: "text/turtle" },
        generator: "site",
      }).success,
    ).toBe(true);
    const sync = parseTriggerAction({ syncGraph: { graph: "model", urlTemplate: "https://h.example/x" } });
    expect(sync.success ? [] : sync.error.issues.map((issue) => issue.path.join("."))).toEqual(["syncGraph.format"]);
    const generate = parseTriggerAction({ generator: "site", graph: "model", params: { "9": "/a" } });
    expect(generate.success ? [] : generate.error.issues.map((issue) => issue.path.join("."))).toEqual(["params.9"]);
  });

  it("reserves the kgen prefix for the params the platform sets", () => {
    for (const name of Object.values(TRIGGER_JOB_PARAMS)) {
      expect(parseTriggerAction({ generator: "site", graph: "model", params: { [name]: "/after" } }).success).toBe(
        false,
      );
    }
  });

  it("bounds names, params and filters", () => {
    const base = { name: "t", verify: "github", action: { generator: "site", graph: "model" } };
    const params = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`p${i}`, "/a"]));
    expect(createTriggerSchema.safeParse({ ...base, action: { ...base.action, params } }).success).toBe(false);
    expect(createTriggerSchema.safeParse({ ...base, name: "x".repeat(101) }).success).toBe(false);
    expect(createTriggerSchema.safeParse({ ...base, filter: { events: Array(21).fill("push") } }).success).toBe(false);
    expect(createTriggerSchema.safeParse({ ...base, filter: { ref: "refs/heads/main" } }).success).toBe(true);
  });
});

describe("delivery filters", () => {
  it("GitHub acts on push by default; a filter names events and a ref", () => {
    expect(filterDelivery("github", null, { event: "push" })).toEqual({ accepted: true });
    expect(filterDelivery("github", null, { event: "issues" })).toEqual({
      accepted: false,
      reason: 'event "issues" is not one of push',
    });
    const filter = { events: ["push", "release"], ref: "refs/heads/main" };
    expect(filterDelivery("github", filter, { event: "release", ref: "refs/heads/main" })).toEqual({ accepted: true });
    expect(filterDelivery("github", filter, { event: "push", ref: "refs/tags/v1" })).toEqual({
      accepted: false,
      reason: 'ref "refs/tags/v1" is not refs/heads/main',
    });
    expect(filterDelivery("github", filter, { event: "push" })).toMatchObject({ accepted: false });
  });

  it("Standard Webhooks accept every type unless the filter names some", () => {
    expect(filterDelivery("standard-webhooks", null, {})).toEqual({ accepted: true });
    expect(filterDelivery("standard-webhooks", { events: ["model.published"] }, {})).toEqual({
      accepted: false,
      reason: "event null is not one of model.published",
    });
  });
});
