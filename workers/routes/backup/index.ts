import { createRouter } from "../../openapi";
import * as handlers from "./backup.handlers";
import * as routes from "./backup.routes";

export const backupRoutes = createRouter()
  .openapi(routes.exportTenant, handlers.exportTenant)
  .openapi(routes.importTenant, handlers.importTenant);
