import { database } from "../../db/client";
import { auditLog } from "../../db/schema";
import type { AppRouteHandler } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { notFound } from "../../problems/problem-response";
import { TenantDirectory } from "../../repository/tenants";
import { tenantObject } from "../../tenant-object-stub";
import { RECOVERY_WINDOW_MS, type restoreTenantObject as route } from "./tenant-recovery.routes";

const invalidRestorePoint = (detail: string) =>
  new HttpError(422, "invalid-restore-point", "Invalid restore point", detail);

export const restoreTenantObject: AppRouteHandler<typeof route> = async (c) => {
  const { id } = c.req.valid("param");
  const target = c.req.valid("json");
  const db = database(c.env.DB);
  const tenant = await new TenantDirectory(db).findById(id);
  if (!tenant) throw notFound("The tenant");
  const now = Date.now();
  let point: { at: number } | { bookmark: string };
  if ("at" in target) {
    const at = Date.parse(target.at);
    if (at > now) throw invalidRestorePoint("The restore time is in the future.");
    if (at < now - RECOVERY_WINDOW_MS) throw invalidRestorePoint("The restore time is more than 30 days ago.");
    point = { at };
  } else {
    point = { bookmark: target.bookmark };
  }
  const stub = tenantObject(c.env, tenant);
  const armed = await stub.storageRestoreArm(point);
  if (!armed.armed) {
    if (armed.reason === "unavailable") {
      throw new HttpError(
        501,
        "point-in-time-recovery-unavailable",
        "Point-in-time recovery unavailable",
        `This environment's Durable Object storage has no point-in-time recovery (${armed.detail}).`,
      );
    }
    throw invalidRestorePoint(armed.detail);
  }
  await db.insert(auditLog).values({
    tenantId: tenant.id,
    actor: "operator",
    action: "tenant.object-restore",
    target: tenant.id,
    requestId: c.var.requestId,
    detail: { restoredTo: armed.bookmark, previous: armed.previous },
    createdAt: new Date(now).toISOString(),
  });
  try {
    await stub.storageRestart();
  } catch {
    // The object aborts itself to restart on the restored storage: the call cannot return normally.
  }
  return c.json({ tenantId: tenant.id, restoredTo: armed.bookmark, previous: armed.previous }, 200);
};
