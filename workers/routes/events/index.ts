import { createRouter } from "../../openapi";
import * as handlers from "./events.handlers";
import * as routes from "./events.routes";

export const eventRoutes = createRouter()
  .openapi(routes.listEvents, handlers.listEvents)
  .openapi(routes.streamEvents, handlers.streamEvents)
  .openapi(routes.eventSocket, handlers.eventSocket)
  .openapi(routes.createEventTicket, handlers.createEventTicket);
