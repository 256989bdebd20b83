import { jobDiffPage, jobPatch } from "../../../shared/generate/job-diff";
import { negotiateMediaType } from "../../../shared/rdf/content-negotiation";
import { DIFF_PAGE_BOUNDS, jobDiffSource, PATCH_BOUNDS } from "../../jobs/job-diff-source";
import type { AppRouteHandler } from "../../openapi";
import { notAcceptable } from "../graphs/graph-content";
import type * as routes from "./diff.routes";
import { assertCompleted, findJob } from "./jobs.handlers";

const DIFF_MEDIA_TYPES = ["application/json", "text/x-diff"] as const;

export const diffJobs: AppRouteHandler<typeof routes.diffJobs> = async (c) => {
  const { a, b } = c.req.valid("param");
  const { limit, cursor } = c.req.valid("query");
  const mediaType = negotiateMediaType(c.req.header("accept"), DIFF_MEDIA_TYPES);
  if (!mediaType) throw notAcceptable(DIFF_MEDIA_TYPES);
  const [jobA, jobB] = await Promise.all([findJob(c, a), findJob(c, b)]);
  assertCompleted(jobA);
  assertCompleted(jobB);
  const source = jobDiffSource(c.env, c.var.tenant, jobA.id, jobB.id);
  if (mediaType === "text/x-diff") {
    const patch = await jobPatch(source, PATCH_BOUNDS);
    return c.body(patch.sections.join(""), 200, { "content-type": "text/x-diff; charset=utf-8", vary: "Accept" });
  }
  const page = await jobDiffPage(source, { ...DIFF_PAGE_BOUNDS, limit, after: cursor });
  return c.json(
    { a: jobA.id, b: jobB.id, summary: page.summary, files: page.files, nextCursor: page.nextCursor ?? null },
    200,
    { vary: "Accept" },
  );
};
