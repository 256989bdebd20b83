import type { z } from "@hono/zod-openapi";
import type { apiKeySchema } from "../../../shared/contracts/api-keys";
import type { ApiKeyRow } from "../../db/schema";

/** An API key as the API shows it: never its secret or hash. */
export function apiKeyView(
  row: Pick<ApiKeyRow, "id" | "name" | "role" | "prefix" | "expiresAt" | "createdAt">,
): z.infer<typeof apiKeySchema> {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
  };
}
