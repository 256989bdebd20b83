import { createRouter } from "../../openapi";
import * as handlers from "./sparql.handlers";
import * as routes from "./sparql.routes";

export const sparqlRoutes = createRouter()
  .openapi(routes.sparqlGet, handlers.sparqlGet)
  .openapi(routes.sparqlPost, handlers.sparqlPost);
