import { createRouter } from "../../openapi";
import * as handlers from "./monitors.handlers";
import * as routes from "./monitors.routes";

export const monitorRoutes = createRouter()
  .openapi(routes.createMonitor, handlers.createMonitor)
  .openapi(routes.listMonitors, handlers.listMonitors)
  .openapi(routes.getMonitor, handlers.getMonitor)
  .openapi(routes.updateMonitor, handlers.updateMonitor)
  .openapi(routes.deleteMonitor, handlers.deleteMonitor)
  .openapi(routes.listMonitorRuns, handlers.listMonitorRuns)
  .openapi(routes.monitorTrend, handlers.monitorTrend);
