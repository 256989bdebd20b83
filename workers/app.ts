import { HTTPException } from "hono/http-exception";
import { ENGINE_VERSION } from "../shared/version";
import type { AppEnv } from "./context";
import { allowedMethods } from "./method-not-allowed";
import { abuseGuard } from "./middleware/abuse-guard";
import { maxBodySize } from "./middleware/body-limit";
import { d1Session } from "./middleware/d1-session";
import { requestContext } from "./middleware/request-context";
import { requestMetrics } from "./middleware/request-metrics";
import { responseHeaders } from "./middleware/response-headers";
import { validEnvironment } from "./middleware/valid-environment";
import { createRouter } from "./openapi";
import { problemFromDomainError } from "./problems/domain-problems";
import { problemFromHttpException } from "./problems/framework-problem";
import { HttpError } from "./problems/http-error";
import { problemResponse } from "./problems/problem-response";
import { adminUsageRoutes } from "./routes/admin-usage/index";
import { apiKeyRoutes } from "./routes/api-keys/index";
import { authRoutes, wellKnownRoutes } from "./routes/auth/index";
import { backupRoutes } from "./routes/backup/index";
import { driftRoutes } from "./routes/drift/index";
import { eventRoutes } from "./routes/events/index";
import { graphStoreRoutes } from "./routes/graph-store/index";
import { graphRoutes } from "./routes/graphs/index";
import { healthRoutes } from "./routes/health/index";
import { hookRoutes } from "./routes/hooks/index";
import { jobRoutes } from "./routes/jobs/index";
import { meRoutes } from "./routes/me/index";
import { memberRoutes } from "./routes/members/index";
import { metricsRoutes } from "./routes/metrics/index";
import { monitorRoutes } from "./routes/monitors/index";
import { renderRoutes } from "./routes/render/index";
import { signingKeyRoutes } from "./routes/signing-keys/index";
import { sparqlRoutes } from "./routes/sparql/index";
import { templateRoutes } from "./routes/templates/index";
import { tenantRecoveryRoutes } from "./routes/tenant-recovery/index";
import { tenantRoutes } from "./routes/tenants/index";
import { triggerRoutes } from "./routes/triggers/index";
import { usageRoutes } from "./routes/usage/index";
import { webhookRoutes } from "./routes/webhooks/index";

export const app = createRouter();

app.use("*", requestContext);
app.use("*", requestMetrics);
app.use("*", validEnvironment);
app.use("*", responseHeaders);
app.use("*", abuseGuard);
app.use("*", maxBodySize);
app.use("*", d1Session);

app.route("/v1", healthRoutes);
app.route("/v1", tenantRoutes);
app.route("/v1", tenantRecoveryRoutes);
app.route("/v1", metricsRoutes);
app.route("/v1", authRoutes);
app.route("/v1", meRoutes);
app.route("/v1", apiKeyRoutes);
app.route("/v1", memberRoutes);
app.route("/v1", usageRoutes);
app.route("/v1", adminUsageRoutes);
app.route("/v1", eventRoutes);
app.route("/v1", templateRoutes);
app.route("/v1", renderRoutes);
app.route("/v1", signingKeyRoutes);
app.route("/v1", graphRoutes);
app.route("/v1", sparqlRoutes);
app.route("/v1", graphStoreRoutes);
app.route("/v1", jobRoutes);
app.route("/v1", triggerRoutes);
app.route("/v1", driftRoutes);
app.route("/v1", monitorRoutes);
app.route("/v1", backupRoutes);
// Public: a delivery's signature is its credential, so no tenant middleware runs before the handler.
app.route("/v1", hookRoutes);
app.route("/v1", webhookRoutes);
app.route("/", wellKnownRoutes);

app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
  type: "http",
  scheme: "bearer",
  description:
    "A tenant API key (`kgen_…`), a JWT from POST /v1/auth/token or the configured identity provider, or the operator ADMIN_TOKEN.",
});
app.doc31("/v1/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "KGEN Edge API",
    version: ENGINE_VERSION,
    description: "Knowledge graphs compiled into files, deterministically, with signed provenance.",
  },
});

app.notFound((c) => {
  const allowed = allowedMethods(app.routes, new URL(c.req.url).pathname);
  if (allowed.length > 0) {
    return problemResponse(
      c,
      new HttpError(405, "method-not-allowed", "Method Not Allowed", `${c.req.method} is not allowed here.`, {
        headers: { Allow: allowed.join(", ") },
      }),
    );
  }
  return problemResponse(c, new HttpError(404, "not-found", "Not Found", "No such route."));
});

app.onError((error, c) => {
  if (error instanceof HttpError) return problemResponse(c, error);
  const domainProblem = problemFromDomainError(error);
  if (domainProblem) return problemResponse(c, domainProblem);
  if (error instanceof HTTPException && error.status < 500) return problemResponse(c, problemFromHttpException(error));
  console.error(
    JSON.stringify({
      level: "error",
      msg: "unhandled error",
      requestId: c.var.requestId,
      error: String(error),
      stack: (error as Error)?.stack,
    }),
  );
  return problemResponse(
    c,
    new HttpError(
      500,
      "internal",
      "Internal Server Error",
      "Something went wrong on our side. Quote the request id when reporting it.",
    ),
  );
});

export type App = typeof app;
export type { AppEnv };
