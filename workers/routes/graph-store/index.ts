import { createRouter } from "../../openapi";
import * as handlers from "./graph-store.handlers";
import * as routes from "./graph-store.routes";

export const graphStoreRoutes = createRouter()
  .openapi(routes.getStoreGraph, handlers.getStoreGraph)
  .openapi(routes.putStoreGraph, handlers.putStoreGraph)
  .openapi(routes.postStoreGraph, handlers.postStoreGraph)
  .openapi(routes.deleteStoreGraph, handlers.deleteStoreGraph);
