import { createRouter } from "../../openapi";
import * as handlers from "./usage.handlers";
import * as routes from "./usage.routes";

export const usageRoutes = createRouter().openapi(routes.usage, handlers.usage);
