import type { z } from "@hono/zod-openapi";
import type { tenantErasureSchema, tenantSchema } from "../../../shared/contracts/tenants";
import type { TenantErasureRow } from "../../db/schema";
import type { LiveTenantRow } from "../../repository/tenants";

/** A tenant as the API shows it. */
export function tenantView(row: LiveTenantRow): z.infer<typeof tenantSchema> {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    plan: row.plan as z.infer<typeof tenantSchema>["plan"],
    jurisdiction: row.jurisdiction as z.infer<typeof tenantSchema>["jurisdiction"],
    status: row.status,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** A tenant erasure as the API shows it. */
export function tenantErasureView(row: TenantErasureRow): z.infer<typeof tenantErasureSchema> {
  return {
    tenantId: row.tenantId,
    status: row.status,
    phase: row.phase,
    deleted: { d1Rows: row.d1RowsDeleted, r2Objects: row.r2ObjectsDeleted },
    attempts: row.attempts,
    lastError: row.lastError,
    requestedAt: row.requestedAt,
    updatedAt: row.updatedAt,
    completedAt: row.completedAt,
  };
}
