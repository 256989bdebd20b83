import { createRoute, z } from "@hono/zod-openapi";
import { flagValuesSchema } from "../../../shared/contracts/flags";
import { roleSchema } from "../../../shared/contracts/roles";
import { tenantSchema } from "../../../shared/contracts/tenants";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";

const meSchema = z
  .object({
    tenant: tenantSchema,
    role: roleSchema,
    subject: z.string(),
    credential: z.enum(["api-key", "platform-token", "external-token", "event-ticket"]),
    apiKeyId: z.string().nullable(),
    tokenId: z.string().nullable(),
    flags: flagValuesSchema.describe("The tenant's effective feature flags"),
  })
  .meta({ id: "Me" });

export const me = createRoute({
  method: "get",
  path: "/me",
  tags: ["auth"],
  summary: "Who the credential belongs to (answers for suspended tenants too)",
  security: bearerSecurity,
  middleware: [...tenantRequest] as const,
  responses: {
    200: { description: "The caller", content: { "application/json": { schema: meSchema } } },
    ...problemResponses(401, 403, 429),
  },
});
