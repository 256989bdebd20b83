import { createRouter } from "../../openapi";
import * as handlers from "./hooks.handlers";
import * as routes from "./hooks.routes";

export const hookRoutes = createRouter().openapi(routes.receiveHook, handlers.receiveHook);
