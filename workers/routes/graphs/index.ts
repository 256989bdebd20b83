import { createRouter } from "../../openapi";
import * as handlers from "./graphs.handlers";
import * as routes from "./graphs.routes";

export const graphRoutes = createRouter()
  .openapi(routes.listGraphs, handlers.listGraphs)
  .openapi(routes.replaceGraph, handlers.replaceGraph)
  .openapi(routes.patchGraph, handlers.patchGraph)
  .openapi(routes.getGraph, handlers.getGraph)
  .openapi(routes.deleteGraph, handlers.deleteGraph)
  .openapi(routes.listVersions, handlers.listVersions)
  .openapi(routes.getVersionContent, handlers.getVersionContent)
  .openapi(routes.diffVersions, handlers.diffVersions)
  .openapi(routes.validateGraph, handlers.validateGraph);
