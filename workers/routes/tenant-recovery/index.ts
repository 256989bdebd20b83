import { createRouter } from "../../openapi";
import * as handlers from "./tenant-recovery.handlers";
import * as routes from "./tenant-recovery.routes";

export const tenantRecoveryRoutes = createRouter().openapi(routes.restoreTenantObject, handlers.restoreTenantObject);
