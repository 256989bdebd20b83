import { CloudEvent as SdkCloudEvent } from "cloudevents";
import { describe, expect, it } from "vitest";
import { eventTypeMatches, eventTypePatternsSchema, toCloudEvent } from "../../../shared/contracts/events";

describe("event type patterns", () => {
  it("matches exact types and trailing wildcards", () => {
    expect(eventTypeMatches("job.*", "job.progress")).toBe(true);
    expect(eventTypeMatches("job.*", "jobs.progress")).toBe(false);
    expect(eventTypeMatches("job.*", "job")).toBe(false);
    expect(eventTypeMatches("graph.*", "graph.version.created")).toBe(true);
    expect(eventTypeMatches("graph.version.*", "graph.deleted")).toBe(false);
    expect(eventTypeMatches("*", "webhook.disabled")).toBe(true);
    expect(eventTypeMatches("job.failed", "job.failed")).toBe(true);
    expect(eventTypeMatches("job.failed", "job.failed.x")).toBe(false);
  });

  it("accepts the wire prefix and refuses malformed patterns", () => {
    expect(eventTypePatternsSchema.parse(["dev.kgen.job.*", "graph.deleted"])).toEqual(["job.*", "graph.deleted"]);
    for (const bad of [[], ["job.*.done"], ["Job.failed"], ["job..x"], ["**"], [""]]) {
      expect(eventTypePatternsSchema.safeParse(bad).success).toBe(false);
    }
  });
});

describe("toCloudEvent", () => {
  it("builds a CloudEvents 1.0 event the SDK validates, with the log position as id", () => {
    const event = toCloudEvent("t_123", {
      id: 42,
      type: "job.completed",
      data: { jobId: "job_9", artifacts: 3 },
      createdAt: Date.UTC(2026, 11, 6, 10, 0, 0),
    });
    expect(event).toEqual({
      specversion: "1.0",
      id: "42",
      source: "/tenants/t_123",
      type: "dev.kgen.job.completed",
      time: "2026-12-06T10:00:00.000Z",
      subject: "jobs/job_9",
      datacontenttype: "application/json",
      data: { jobId: "job_9", artifacts: 3 },
    });
    expect(new SdkCloudEvent({ ...event }, true).validate()).toBe(true);
  });

  it("omits the subject when the data names no resource", () => {
    const event = toCloudEvent("t_1", { id: 1, type: "custom.thing", data: [1, 2], createdAt: 0 });
    expect(event.subject).toBeUndefined();
    expect(new SdkCloudEvent({ ...event }, true).validate()).toBe(true);
  });
});
