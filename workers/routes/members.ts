import { createRoute, z } from "@hono/zod-openapi";
import { auditEntrySchema, memberSchema, putMemberSchema } from "../../shared/contracts/members";
import { roleAtLeast } from "../../shared/contracts/roles";
import { authenticate, requireRole } from "../auth/authenticate";
import { lastOwnerError, requireOwnerToChangeOwner } from "../auth/owner-rules";
import { database } from "../db/client";
import type { AuditRow, MemberRow } from "../db/schema";
import { bearerSecurity, createRouter, problemResponses, requireJsonBody } from "../openapi";
import { HttpError } from "../problems/http-error";
import { notFound } from "../problems/problem-response";
import { pageOf, pageQuerySchema } from "../repository/pagination";
import { TenantScope } from "../repository/tenant-scope";

const subjectParam = z.object({ subject: z.string().min(1).max(256) });
const memberPageQuery = pageQuerySchema.extend({
  cursor: z.string().max(256).optional().describe("The last subject of the previous page."),
});
const auditPageQuery = pageQuerySchema.extend({
  cursor: z.coerce.number().int().min(1).optional().describe("Entries older than this id."),
});

const memberView = (row: MemberRow) => ({ subject: row.subject, role: row.role, createdAt: row.createdAt });
const auditView = (row: AuditRow) => ({
  id: row.id,
  actor: row.actor,
  action: row.action,
  target: row.target,
  requestId: row.requestId,
  detail: row.detail ?? null,
  createdAt: row.createdAt,
});

const listMembers = createRoute({
  method: "get",
  path: "/members",
  tags: ["members"],
  summary: "Identity-provider subjects with a role managed in KGEN (admin and up)",
  security: bearerSecurity,
  middleware: [authenticate, requireRole("admin")] as const,
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

const putMember = createRoute({
  method: "put",
  path: "/members/{subject}",
  tags: ["members"],
  summary:
    "Give an identity-provider subject a role; it overrides the token's role claim except an asserted owner (admin and up; owner to change an owner)",
  security: bearerSecurity,
  middleware: [authenticate, requireRole("admin"), requireJsonBody] as const,
  request: {
    params: subjectParam,
    body: { required: true, content: { "application/json": { schema: putMemberSchema } } },
  },
  responses: {
    200: { description: "The member", content: { "application/json": { schema: memberSchema } } },
    ...problemResponses(400, 401, 403, 409, 415, 429),
  },
});

const deleteMember = createRoute({
  method: "delete",
  path: "/members/{subject}",
  tags: ["members"],
  summary: "Remove a member (admin and up; owner to remove an owner; never the last owner)",
  security: bearerSecurity,
  middleware: [authenticate, requireRole("admin")] as const,
  request: { params: subjectParam },
  responses: { 204: { description: "Removed" }, ...problemResponses(401, 403, 404, 409, 429) },
});

const listAudit = createRoute({
  method: "get",
  path: "/audit-log",
  tags: ["audit"],
  summary: "The tenant's audit log, newest first (admin and up)",
  security: bearerSecurity,
  middleware: [authenticate, requireRole("admin")] as const,
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

export const memberRoutes = createRouter()
  .openapi(listMembers, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await new TenantScope(database(c.env.DB), c.var.principal.tenantId).listMembers(limit, cursor);
    return c.json(
      pageOf(rows, limit, memberView, (row) => row.subject),
      200,
    );
  })
  .openapi(putMember, async (c) => {
    const { principal } = c.var;
    const { role } = c.req.valid("json");
    const { subject } = c.req.valid("param");
    if (!roleAtLeast(principal.role, role)) {
      throw new HttpError(403, "insufficient-role", "Forbidden", `You cannot grant the ${role} role.`);
    }
    const row = await new TenantScope(database(c.env.DB), principal.tenantId).putMember(
      subject,
      role,
      { actor: principal.subject, requestId: c.var.requestId, createdAt: new Date().toISOString() },
      principal.role === "owner",
    );
    // Unchanged means the subject is an owner: either the caller may not change owners, or it is the last one.
    if (row.role !== role) {
      requireOwnerToChangeOwner(principal.role);
      throw lastOwnerError("demote");
    }
    return c.json(memberView(row), 200);
  })
  .openapi(deleteMember, async (c) => {
    const { principal } = c.var;
    const scope = new TenantScope(database(c.env.DB), principal.tenantId);
    const { subject } = c.req.valid("param");
    const member = await scope.findMember(subject);
    if (!member) throw notFound("The member");
    if (member.role === "owner") requireOwnerToChangeOwner(principal.role);
    const removed = await scope.deleteMember(subject, {
      actor: principal.subject,
      requestId: c.var.requestId,
      createdAt: new Date().toISOString(),
    });
    if (!removed) throw lastOwnerError("remove");
    return c.body(null, 204);
  })
  .openapi(listAudit, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await new TenantScope(database(c.env.DB), c.var.principal.tenantId).listAudit(limit, cursor);
    return c.json(
      pageOf(rows, limit, auditView, (row) => row.id),
      200,
    );
  });
