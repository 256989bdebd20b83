import type { z } from "@hono/zod-openapi";
import type { MonitorTarget, monitorSchema } from "../../../shared/contracts/monitors";
import type { MonitorRow } from "../../db/schema";

export function monitorView(row: MonitorRow): z.infer<typeof monitorSchema> {
  return {
    id: row.id,
    name: row.name,
    target: row.target as MonitorTarget,
    source:
      row.sourceKind === "graph"
        ? { kind: "graph" }
        : { kind: "manifest", url: row.manifestUrl ?? "", headerNames: row.headerNames ?? [] },
    schedule: row.schedule,
    onDrift: row.onDrift,
    enabled: row.enabled,
    nextRunAt: row.nextRunAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
