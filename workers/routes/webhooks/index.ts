import { createRouter } from "../../openapi";
import * as handlers from "./webhooks.handlers";
import * as routes from "./webhooks.routes";

export const webhookRoutes = createRouter()
  .openapi(routes.createWebhook, handlers.createWebhook)
  .openapi(routes.listWebhooks, handlers.listWebhooks)
  .openapi(routes.getWebhook, handlers.getWebhook)
  .openapi(routes.updateWebhook, handlers.updateWebhook)
  .openapi(routes.deleteWebhook, handlers.deleteWebhook)
  .openapi(routes.rotateWebhookSecret, handlers.rotateWebhookSecret)
  .openapi(routes.testWebhook, handlers.testWebhook)
  .openapi(routes.listDeliveries, handlers.listDeliveries)
  .openapi(routes.getDelivery, handlers.getDelivery)
  .openapi(routes.redeliver, handlers.redeliver);
