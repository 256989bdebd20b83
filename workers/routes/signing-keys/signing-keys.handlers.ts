import { publicJwks, rotateTenantSigningKeys, type TenantSigningKey } from "../../../shared/crypto/tenant-keys";
import { masterSecret } from "../../auth/config";
import { database } from "../../db/client";
import type { AppRouteHandler } from "../../openapi";
import { notFound } from "../../problems/problem-response";
import { SigningKeyRing } from "../../repository/signing-keys";
import { TenantDirectory } from "../../repository/tenants";
import type * as routes from "./signing-keys.routes";

const signingKeyView = (key: TenantSigningKey) => ({
  kid: key.kid,
  status: key.status,
  createdAt: key.createdAt,
  retiredAt: key.retiredAt ?? null,
  publicJwk: key.publicJwk as Record<string, unknown>,
});

export const tenantJwks: AppRouteHandler<typeof routes.tenantJwks> = async (c) => {
  const reference = c.req.valid("param").tenant;
  const directory = new TenantDirectory(database(c.env.DB));
  // Ids (`tn_…`) and slugs (no underscore) never collide, so at most one of the two lookups matches.
  const tenant = (await directory.findById(reference)) ?? (await directory.findBySlug(reference));
  if (!tenant) throw notFound("The tenant");
  const keys = await new SigningKeyRing(database(c.env.DB), tenant.id).all();
  return c.json(publicJwks(keys), 200, { "cache-control": "public, max-age=60" });
};

export const listKeys: AppRouteHandler<typeof routes.listKeys> = async (c) => {
  const keys = await new SigningKeyRing(database(c.env.DB), c.var.tenant.id).all();
  return c.json({ items: keys.map(signingKeyView) }, 200);
};

export const rotateKeys: AppRouteHandler<typeof routes.rotateKeys> = async (c) => {
  const { tenant, principal } = c.var;
  const ring = new SigningKeyRing(database(c.env.DB), tenant.id);
  const now = new Date().toISOString();
  const { keys, active } = await rotateTenantSigningKeys(await ring.all(), {
    tenantId: tenant.id,
    masterSecret: masterSecret(c.env),
    keyVersion: 1,
    createdAt: now,
  });
  await ring.saveRotation(keys, principal.subject, c.var.requestId, now);
  return c.json({ ...signingKeyView(active), retiredAt: null }, 201);
};
