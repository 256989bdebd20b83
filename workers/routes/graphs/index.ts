import { graphPatchSchema } from "../../../shared/contracts/graphs";
import { createRouter } from "../../openapi";
import * as handlers from "./graphs.handlers";
import * as routes from "./graphs.routes";

const router = createRouter();
router.openAPIRegistry.register(routes.GRAPH_PATCH_COMPONENT, graphPatchSchema);

export const graphRoutes = router
  .openapi(routes.listGraphs, handlers.listGraphs)
  .openapi(routes.replaceGraph, handlers.replaceGraph)
  .openapi(routes.patchGraph, handlers.patchGraph)
  .openapi(routes.getGraph, handlers.getGraph)
  .openapi(routes.deleteGraph, handlers.deleteGraph)
  .openapi(routes.listVersions, handlers.listVersions)
  .openapi(routes.getVersionContent, handlers.getVersionContent)
  .openapi(routes.diffVersions, handlers.diffVersions)
  .openapi(routes.validateGraph, handlers.validateGraph);
