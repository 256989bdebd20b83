import { createRouter } from "../../openapi";
import * as handlers from "./admin-usage.handlers";
import * as routes from "./admin-usage.routes";

export const adminUsageRoutes = createRouter().openapi(routes.usageExport, handlers.usageExport);
