import { createRoute, z } from "@hono/zod-openapi";
import { auditEntrySchema, memberSchema, putMemberSchema } from "../../../shared/contracts/members";
import { requireRole } from "../../auth/authenticate";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses, requireJsonBody } from "../../openapi";
import { pageQuerySchema } from "../../repository/pagination";

const subjectParam = z.object({ subject: z.string().min(1).max(256) });
const memberPageQuery = pageQuerySchema.extend({
  cursor: z.string().max(256).optional().describe("The last subject of the previous page."),
});
const auditPageQuery = pageQuerySchema.extend({
  cursor: z.coerce.number().int().min(1).optional().describe("Entries older than this id."),
});

export const listMembers = createRoute({
  method: "get",
  path: "/members",
  tags: ["members"],
  summary: "Identity-provider subjects with a role managed in KGEN (admin and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  request: { query: memberPageQuery },
  responses: {
    200: {
      description: "A page of members",
      content: {
        "application/json": { schema: z.object({ items: z.array(memberSchema), nextCursor: z.string().nullable() }) },
      },
    },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const putMember = createRoute({
  method: "put",
  path: "/members/{subject}",
  tags: ["members"],
  summary:
    "Give an identity-provider subject a role; it overrides the token's role claim except an asserted owner (admin and up; owner to change an owner)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin"), requireJsonBody] as const,
  request: {
    params: subjectParam,
    body: { required: true, content: { "application/json": { schema: putMemberSchema } } },
  },
  responses: {
    200: { description: "The member", content: { "application/json": { schema: memberSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 415, 429),
  },
});

export const deleteMember = createRoute({
  method: "delete",
  path: "/members/{subject}",
  tags: ["members"],
  summary: "Remove a member (admin and up; owner to remove an owner; never the last owner)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  request: { params: subjectParam },
  responses: { 204: { description: "Removed" }, ...problemResponses(401, 403, 404, 409, 429) },
});

export const listAudit = createRoute({
  method: "get",
  path: "/audit-log",
  tags: ["audit"],
  summary: "The tenant's audit log, newest first (admin and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  request: { query: auditPageQuery },
  responses: {
    200: {
      description: "A page of audit entries",
      content: {
        "application/json": {
          schema: z.object({ items: z.array(auditEntrySchema), nextCursor: z.number().nullable() }),
        },
      },
    },
    ...problemResponses(400, 401, 403, 429),
  },
});
