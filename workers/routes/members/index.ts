import { createRouter } from "../../openapi";
import * as handlers from "./members.handlers";
import * as routes from "./members.routes";

export const memberRoutes = createRouter()
  .openapi(routes.listMembers, handlers.listMembers)
  .openapi(routes.putMember, handlers.putMember)
  .openapi(routes.deleteMember, handlers.deleteMember)
  .openapi(routes.listAudit, handlers.listAudit);
