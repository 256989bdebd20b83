import { createRouter } from "../../openapi";
import * as handlers from "./tenants.handlers";
import * as routes from "./tenants.routes";

export const tenantRoutes = createRouter()
  .openapi(routes.createTenant, handlers.createTenant)
  .openapi(routes.listTenants, handlers.listTenants)
  .openapi(routes.getTenant, handlers.getTenant)
  .openapi(routes.updateTenant, handlers.updateTenant)
  .openapi(routes.deleteTenant, handlers.deleteTenant)
  .openapi(routes.getTenantErasure, handlers.getTenantErasure)
  .openapi(routes.getTenantFlags, handlers.getTenantFlags)
  .openapi(routes.putTenantFlags, handlers.putTenantFlags);
