import { createRouter } from "../../openapi";
import * as handlers from "./auth.handlers";
import * as routes from "./auth.routes";

/** Mounted under /v1. */
export const authRoutes = createRouter().openapi(routes.exchangeToken, handlers.exchangeToken);

/** Mounted at the root: /.well-known/jwks.json. */
export const wellKnownRoutes = createRouter().openapi(routes.platformKeys, handlers.platformKeys);
