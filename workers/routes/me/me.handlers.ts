import { effectiveFlagValues } from "../../../shared/contracts/flags";
import { unauthorized } from "../../auth/credential-problems";
import { database } from "../../db/client";
import type { AppRouteHandler } from "../../openapi";
import { TenantDirectory } from "../../repository/tenants";
import { tenantView } from "../tenants/tenant-view";
import type * as routes from "./me.routes";

/** The one tenant route that reads the tenant's full row: the edge only knows what authorization needs. */
export const me: AppRouteHandler<typeof routes.me> = async (c) => {
  const { principal } = c.var;
  const tenant = await new TenantDirectory(database(c.env.DB)).findById(principal.tenantId);
  if (!tenant) throw unauthorized("The credential's tenant does not exist.");
  return c.json(
    {
      tenant: tenantView(tenant),
      role: principal.role,
      subject: principal.subject,
      credential: principal.credential,
      apiKeyId: principal.apiKeyId ?? null,
      tokenId: principal.tokenId ?? null,
      flags: effectiveFlagValues(tenant),
    },
    200,
  );
};
