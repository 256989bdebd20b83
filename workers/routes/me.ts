import { createRoute, z } from "@hono/zod-openapi";
import { roleSchema } from "../../shared/contracts/roles";
import { tenantSchema } from "../../shared/contracts/tenants";
import { authenticate } from "../auth/authenticate";
import { bearerSecurity, createRouter, problemResponses } from "../openapi";
import { tenantView } from "./tenants";

const meSchema = z
  .object({
    tenant: tenantSchema,
    role: roleSchema,
    subject: z.string(),
    credential: z.enum(["api-key", "platform-token", "external-token"]),
    apiKeyId: z.string().nullable(),
    tokenId: z.string().nullable(),
  })
  .meta({ id: "Me" });

const me = createRoute({
  method: "get",
  path: "/me",
  tags: ["auth"],
  summary: "Who the credential belongs to (answers for suspended tenants too)",
  security: bearerSecurity,
  middleware: [authenticate] as const,
  responses: {
    200: { description: "The caller", content: { "application/json": { schema: meSchema } } },
    ...problemResponses(401, 403, 429),
  },
});

export const meRoutes = createRouter().openapi(me, (c) => {
  const { principal, tenant } = c.var;
  return c.json(
    {
      tenant: tenantView(tenant),
      role: principal.role,
      subject: principal.subject,
      credential: principal.credential,
      apiKeyId: principal.apiKeyId ?? null,
      tokenId: principal.tokenId ?? null,
    },
    200,
  );
});
