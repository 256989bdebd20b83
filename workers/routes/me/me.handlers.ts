import type { AppRouteHandler } from "../../openapi";
import { tenantView } from "../tenants/tenant-view";
import type * as routes from "./me.routes";

export const me: AppRouteHandler<typeof routes.me> = (c) => {
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
};
