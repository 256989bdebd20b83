import { tenantFlagsView } from "../../../shared/contracts/flags";
import { randomId } from "../../../shared/core/encoding";
import { createTenantSigningKey } from "../../../shared/crypto/tenant-keys";
import { generateApiKeySecret } from "../../auth/api-key-secret";
import { masterSecret } from "../../auth/config";
import { edgeCredentials } from "../../auth/edge-credentials";
import { database } from "../../db/client";
import type { TenantErasureRow } from "../../db/schema";
import { enqueueErasure } from "../../erasure/erase-consumer";
import { requestUsageBatch } from "../../middleware/request-usage-batch";
import type { AppRouteHandler } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { notFound } from "../../problems/problem-response";
import { toPage } from "../../repository/pagination";
import { TenantErasures } from "../../repository/tenant-erasures";
import { type LiveTenantRow, TenantDirectory } from "../../repository/tenants";
import { apiKeyView } from "../api-keys/api-key-view";
import { tenantErasureView, tenantView } from "./tenant-view";
import type * as routes from "./tenants.routes";

const OPERATOR = "operator";

const slugTaken = (slug: string) =>
  new HttpError(409, "conflict", "Conflict", `A tenant with slug "${slug}" already exists.`);

export const createTenant: AppRouteHandler<typeof routes.createTenant> = async (c) => {
  const input = c.req.valid("json");
  const directory = new TenantDirectory(database(c.env.DB));
  if (await directory.findBySlug(input.slug)) throw slugTaken(input.slug);
  const secret = await generateApiKeySecret();
  const now = new Date().toISOString();
  const ownerKey = { id: randomId("key"), prefix: secret.prefix, hash: secret.hash };
  let tenant: LiveTenantRow;
  try {
    tenant = await directory.create(
      { slug: input.slug, name: input.name, plan: input.plan, jurisdiction: input.jurisdiction ?? null },
      ownerKey,
      (tenantId) =>
        createTenantSigningKey({ tenantId, masterSecret: masterSecret(c.env), keyVersion: 1, createdAt: now }),
      OPERATOR,
      c.var.requestId,
      now,
    );
  } catch (error) {
    // Two concurrent creations with one slug: the unique index decides, the loser gets 409.
    if (String(error).includes("UNIQUE")) throw slugTaken(input.slug);
    throw error;
  }
  const apiKey = apiKeyView({
    id: ownerKey.id,
    name: "owner",
    role: "owner",
    prefix: ownerKey.prefix,
    expiresAt: null,
    createdAt: now,
  });
  return c.json({ tenant: tenantView(tenant), apiKey, secret: secret.secret }, 201);
};

export const listTenants: AppRouteHandler<typeof routes.listTenants> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const rows = await new TenantDirectory(database(c.env.DB)).list(limit, cursor);
  return c.json(toPage(rows, limit, tenantView), 200);
};

export const getTenant: AppRouteHandler<typeof routes.getTenant> = async (c) => {
  const tenant = await new TenantDirectory(database(c.env.DB)).findById(c.req.valid("param").id);
  if (!tenant) throw notFound("The tenant");
  return c.json(tenantView(tenant), 200);
};

export const updateTenant: AppRouteHandler<typeof routes.updateTenant> = async (c) => {
  const { id } = c.req.valid("param");
  const directory = new TenantDirectory(database(c.env.DB));
  if (!(await directory.findById(id))) throw notFound("The tenant");
  const updated = await directory.update(id, c.req.valid("json"), OPERATOR, c.var.requestId, new Date().toISOString());
  if (!updated) throw notFound("The tenant");
  edgeCredentials.forgetTenant(id, Date.now());
  return c.json(tenantView(updated), 200);
};

const erasureLocation = (id: string) => `/v1/tenants/${encodeURIComponent(id)}/erasure`;

export const deleteTenant: AppRouteHandler<typeof routes.deleteTenant> = async (c) => {
  const { id } = c.req.valid("param");
  const db = database(c.env.DB);
  const directory = new TenantDirectory(db);
  const now = new Date().toISOString();
  const tenant = await directory.findById(id);
  let erasure: TenantErasureRow | null | undefined;
  if (tenant) {
    erasure = await directory.beginErasure(tenant, OPERATOR, c.var.requestId, now);
    edgeCredentials.forgetTenant(id, Date.now());
    requestUsageBatch.drop(id);
  } else {
    // A tenant already deleted: its erasure, unless completed, is queued again (after a lost message or a failure).
    erasure = await new TenantErasures(db).restart(id, now);
  }
  if (!erasure || erasure.status === "completed") throw notFound("The tenant");
  await enqueueErasure(c.env, id, c.var.traceparent);
  c.header("Location", erasureLocation(id));
  return c.json(tenantErasureView(erasure), 202);
};

export const getTenantErasure: AppRouteHandler<typeof routes.getTenantErasure> = async (c) => {
  const erasure = await new TenantErasures(database(c.env.DB)).find(c.req.valid("param").id);
  if (!erasure) throw notFound("The tenant erasure");
  return c.json(tenantErasureView(erasure), 200);
};

export const getTenantFlags: AppRouteHandler<typeof routes.getTenantFlags> = async (c) => {
  const tenant = await new TenantDirectory(database(c.env.DB)).findById(c.req.valid("param").id);
  if (!tenant) throw notFound("The tenant");
  return c.json(tenantFlagsView(tenant), 200);
};

export const putTenantFlags: AppRouteHandler<typeof routes.putTenantFlags> = async (c) => {
  const { id } = c.req.valid("param");
  const { overrides } = c.req.valid("json");
  const directory = new TenantDirectory(database(c.env.DB));
  if (!(await directory.findById(id))) throw notFound("The tenant");
  const updated = await directory.setFlagOverrides(id, overrides, OPERATOR, c.var.requestId, new Date().toISOString());
  if (!updated) throw notFound("The tenant");
  // Other locations see the change when their cached copy of the tenant expires (CREDENTIAL_CACHE_TTL_MS).
  edgeCredentials.forgetTenant(id, Date.now());
  return c.json(tenantFlagsView(updated), 200);
};
