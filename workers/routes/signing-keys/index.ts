import { createRouter } from "../../openapi";
import * as handlers from "./signing-keys.handlers";
import * as routes from "./signing-keys.routes";

export const signingKeyRoutes = createRouter()
  .openapi(routes.tenantJwks, handlers.tenantJwks)
  .openapi(routes.listKeys, handlers.listKeys)
  .openapi(routes.rotateKeys, handlers.rotateKeys);
