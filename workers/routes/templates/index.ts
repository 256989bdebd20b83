import type { RouteConfig } from "@hono/zod-openapi";
import { createRouter } from "../../openapi";
import * as handlers from "./templates.handlers";
import * as routes from "./templates.routes";

/**
 * A template path holds `/`: the router matches `{path}` over the rest of the URL (any characters,
 * line breaks too, so an address with a control character reaches the check that refuses it),
 * while the document describes the route as declared.
 */
function overSegments<R extends RouteConfig>(route: R): R {
  return { ...route, path: route.path.replace("{path}", "{path{[\\s\\S]+}}"), hide: true };
}

const router = createRouter()
  .openapi(routes.listTemplates, handlers.listTemplates)
  .openapi(overSegments(routes.putTemplate), handlers.putTemplate)
  .openapi(overSegments(routes.getTemplate), handlers.getTemplate)
  .openapi(overSegments(routes.deleteTemplate), handlers.deleteTemplate)
  .openapi(routes.getTemplateSource, handlers.getTemplateSource)
  .openapi(routes.listGenerators, handlers.listGenerators)
  .openapi(routes.getGenerator, handlers.getGenerator)
  .openapi(routes.updateGenerator, handlers.updateGenerator);

for (const route of [routes.putTemplate, routes.getTemplate, routes.deleteTemplate]) {
  const { middleware: _runtimeOnly, ...documented } = route;
  router.openAPIRegistry.registerPath(documented);
}

export const templateRoutes = router;
