import { createRouter } from "../../openapi";
import * as artifactHandlers from "./artifacts.handlers";
import * as artifactRoutes from "./artifacts.routes";
import * as diffHandlers from "./diff.handlers";
import * as diffRoutes from "./diff.routes";
import * as impactHandlers from "./impact.handlers";
import * as impactRoutes from "./impact.routes";
import * as handlers from "./jobs.handlers";
import * as routes from "./jobs.routes";

export const jobRoutes = createRouter()
  .openapi(routes.createJob, handlers.createJob)
  .openapi(routes.createJobDeprecatedAlias, handlers.createJob)
  .openapi(routes.listJobs, handlers.listJobs)
  .openapi(routes.getJob, handlers.getJob)
  .openapi(routes.pinJob, handlers.pinJob)
  .openapi(routes.unpinJob, handlers.unpinJob)
  .openapi(routes.listJobArtifacts, handlers.listJobArtifacts)
  .openapi(routes.getJobBundle, handlers.getJobBundle)
  .openapi(diffRoutes.diffJobs, diffHandlers.diffJobs)
  .openapi(impactRoutes.getJobImpact, impactHandlers.getJobImpact)
  .openapi(artifactRoutes.getArtifactContent, artifactHandlers.getArtifactContent)
  .openapi(artifactRoutes.getArtifactAttestation, artifactHandlers.getArtifactAttestation)
  .openapi(artifactRoutes.explainArtifact, artifactHandlers.explainArtifact)
  .openapi(artifactRoutes.verifyEnvelope, artifactHandlers.verifyEnvelope);
