import { roleAtLeast } from "../../../shared/contracts/roles";
import { randomId } from "../../../shared/core/encoding";
import { generateApiKeySecret } from "../../auth/api-key-secret";
import { edgeCredentials } from "../../auth/edge-credentials";
import { lastOwnerError } from "../../auth/owner-rules";
import { database } from "../../db/client";
import type { AppRouteHandler } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { notFound } from "../../problems/problem-response";
import { toPage } from "../../repository/pagination";
import { TenantScope } from "../../repository/tenant-scope";
import { apiKeyView } from "./api-key-view";
import type * as routes from "./api-keys.routes";

export const createApiKey: AppRouteHandler<typeof routes.createApiKey> = async (c) => {
  const input = c.req.valid("json");
  const { principal } = c.var;
  if (!roleAtLeast(principal.role, input.role)) {
    throw new HttpError(403, "insufficient-role", "Forbidden", `You cannot create a key with the ${input.role} role.`);
  }
  const now = new Date();
  if (input.expiresAt && Date.parse(input.expiresAt) <= now.getTime()) {
    throw new HttpError(400, "validation-error", "Invalid request", "Invalid body: expiresAt.", {
      extensions: { errors: [{ field: "expiresAt", message: "Must be in the future." }] },
    });
  }
  const secret = await generateApiKeySecret();
  const row = await new TenantScope(database(c.env.DB), principal.tenantId).createApiKey(
    {
      id: randomId("key"),
      name: input.name,
      role: input.role,
      prefix: secret.prefix,
      secretHash: secret.hash,
      expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
      createdAt: now.toISOString(),
      createdBy: principal.subject,
    },
    c.var.requestId,
  );
  return c.json({ apiKey: apiKeyView(row), secret: secret.secret }, 201);
};

export const listApiKeys: AppRouteHandler<typeof routes.listApiKeys> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const rows = await new TenantScope(database(c.env.DB), c.var.principal.tenantId).listApiKeys(limit, cursor);
  return c.json(toPage(rows, limit, apiKeyView), 200);
};

export const deleteApiKey: AppRouteHandler<typeof routes.deleteApiKey> = async (c) => {
  const { principal } = c.var;
  const scope = new TenantScope(database(c.env.DB), principal.tenantId);
  const key = await scope.findApiKey(c.req.valid("param").id);
  if (!key) throw notFound("The API key");
  if (!roleAtLeast(principal.role, key.role)) {
    throw new HttpError(
      403,
      "insufficient-role",
      "Forbidden",
      `Deleting a key with the ${key.role} role needs that role.`,
    );
  }
  const deleted = await scope.deleteApiKey(key.id, {
    actor: principal.subject,
    requestId: c.var.requestId,
    createdAt: new Date().toISOString(),
  });
  if (!deleted) throw lastOwnerError("remove");
  edgeCredentials.forgetApiKey(principal.tenantId, key.id, Date.now());
  return c.body(null, 204);
};
