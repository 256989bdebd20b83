import { database } from "../../db/client";
import { jobImpact } from "../../jobs/job-impact";
import type { AppRouteHandler } from "../../openapi";
import { notFound } from "../../problems/problem-response";
import { JobLedger } from "../../repository/jobs";
import type * as routes from "./impact.routes";

export const getJobImpact: AppRouteHandler<typeof routes.getJobImpact> = async (c) => {
  const id = c.req.valid("param").id;
  const job = await new JobLedger(database(c.env.DB), c.var.tenant.id).find(id);
  if (!job) throw notFound("The job");
  const report = await jobImpact(c.env, c.var.tenant, job, c.req.valid("query").version);
  return c.json({ jobId: job.id, ...report }, 200);
};
