import { metricsBatch } from "../../observability/metrics-batch";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheusText } from "../../observability/prometheus-text";
import type { AppRouteHandler } from "../../openapi";
import type * as routes from "./metrics.routes";

export const getMetrics: AppRouteHandler<typeof routes.getMetrics> = async (c) => {
  // This isolate's pending observations first, so a scrape sees at least what this isolate has seen.
  await metricsBatch.flush(c.env);
  const snapshot = await c.env.METRICS_OBJECT.get(c.env.METRICS_OBJECT.idFromName("global")).snapshot();
  return c.text(renderPrometheusText(snapshot), 200, {
    "content-type": PROMETHEUS_CONTENT_TYPE,
    "cache-control": "no-store",
  });
};
