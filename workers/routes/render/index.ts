import { createRouter } from "../../openapi";
import * as handlers from "./render.handlers";
import * as routes from "./render.routes";

export const renderRoutes = createRouter().openapi(routes.render, handlers.render);
