import { createRouter } from "../../openapi";
import * as handlers from "./triggers.handlers";
import * as routes from "./triggers.routes";

export const triggerRoutes = createRouter()
  .openapi(routes.createTrigger, handlers.createTrigger)
  .openapi(routes.listTriggers, handlers.listTriggers)
  .openapi(routes.getTrigger, handlers.getTrigger)
  .openapi(routes.deleteTrigger, handlers.deleteTrigger);
