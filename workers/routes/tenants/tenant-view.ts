import type { z } from "@hono/zod-openapi";
import type { tenantSchema } from "../../../shared/contracts/tenants";
import type { TenantRow } from "../../db/schema";

/** A tenant as the API shows it. */
export function tenantView(row: TenantRow): z.infer<typeof tenantSchema> {
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
