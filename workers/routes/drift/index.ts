import { createRouter } from "../../openapi";
import * as handlers from "./drift.handlers";
import * as routes from "./drift.routes";

export const driftRoutes = createRouter()
  .openapi(routes.createDriftCheck, handlers.createDriftCheck)
  .openapi(routes.listDriftReports, handlers.listDriftReports)
  .openapi(routes.getDriftReport, handlers.getDriftReport);
