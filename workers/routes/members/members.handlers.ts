import { roleAtLeast } from "../../../shared/contracts/roles";
import { edgeCredentials } from "../../auth/edge-credentials";
import { lastOwnerError, requireOwnerToChangeOwner } from "../../auth/owner-rules";
import { database } from "../../db/client";
import type { AuditRow, MemberRow } from "../../db/schema";
import type { AppRouteHandler } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { notFound } from "../../problems/problem-response";
import { pageOf } from "../../repository/pagination";
import { TenantScope } from "../../repository/tenant-scope";
import type * as routes from "./members.routes";

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

export const listMembers: AppRouteHandler<typeof routes.listMembers> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const rows = await new TenantScope(database(c.env.DB), c.var.principal.tenantId).listMembers(limit, cursor);
  return c.json(
    pageOf(rows, limit, memberView, (row) => row.subject),
    200,
  );
};

export const putMember: AppRouteHandler<typeof routes.putMember> = async (c) => {
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
  edgeCredentials.forgetMember(principal.tenantId, subject);
  return c.json(memberView(row), 200);
};

export const deleteMember: AppRouteHandler<typeof routes.deleteMember> = async (c) => {
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
  edgeCredentials.forgetMember(principal.tenantId, subject);
  return c.body(null, 204);
};

export const listAudit: AppRouteHandler<typeof routes.listAudit> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const rows = await new TenantScope(database(c.env.DB), c.var.principal.tenantId).listAudit(limit, cursor);
  return c.json(
    pageOf(rows, limit, auditView, (row) => row.id),
    200,
  );
};
