import { createRouter } from "../../openapi";
import * as handlers from "./api-keys.handlers";
import * as routes from "./api-keys.routes";

export const apiKeyRoutes = createRouter()
  .openapi(routes.createApiKey, handlers.createApiKey)
  .openapi(routes.listApiKeys, handlers.listApiKeys)
  .openapi(routes.deleteApiKey, handlers.deleteApiKey);
