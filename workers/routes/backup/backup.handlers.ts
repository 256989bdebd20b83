import { type PlanName, planLimits } from "../../../shared/plans";
import { readArchive } from "../../backup/archive-reader";
import { exportTenant as streamTenantArchive } from "../../backup/tenant-export";
import { assertEmptyTenant, importTenant as restoreTenantArchive } from "../../backup/tenant-import";
import { type AppRouteHandler, mediaTypeOf } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import type * as routes from "./backup.routes";
import { ARCHIVE_MEDIA_TYPE } from "./backup.routes";

/** What an archive may unpack to, as a multiple of the plan's body limit (graph versions compress well). */
const UNPACKED_FACTOR = 4;

export const exportTenant: AppRouteHandler<typeof routes.exportTenant> = async (c) => {
  const now = new Date();
  const body = await streamTenantArchive(c.env, c.var.tenant, now);
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  return c.body(body, 200, {
    "content-type": ARCHIVE_MEDIA_TYPE,
    "content-disposition": `attachment; filename="${c.var.tenant.slug}-${stamp}.zip"`,
    "cache-control": "no-store",
  });
};

export const importTenant: AppRouteHandler<typeof routes.importTenant> = async (c) => {
  if (mediaTypeOf(c) !== ARCHIVE_MEDIA_TYPE) {
    throw new HttpError(
      415,
      "unsupported-media-type",
      "Unsupported Media Type",
      "Send the archive as application/zip.",
    );
  }
  const { tenant, principal } = c.var;
  const maxBytes = planLimits(tenant.plan as PlanName).maxRequestBodyBytes;
  const declared = Number(c.req.header("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw archiveBodyTooLarge(maxBytes);
  await assertEmptyTenant(c.env, tenant);
  const zip = new Uint8Array(await c.req.arrayBuffer());
  if (zip.byteLength > maxBytes) throw archiveBodyTooLarge(maxBytes);
  const archive = await readArchive(zip, { maxEntryBytes: maxBytes, maxTotalBytes: maxBytes * UNPACKED_FACTOR });
  const report = await restoreTenantArchive(
    c.env,
    tenant,
    { actor: principal.subject, requestId: c.var.requestId },
    archive,
  );
  return c.json(report, 201);
};

const archiveBodyTooLarge = (maxBytes: number) =>
  new HttpError(
    413,
    "payload-too-large",
    "Payload Too Large",
    `The ${maxBytes}-byte body limit of the plan applies to archives.`,
  );
