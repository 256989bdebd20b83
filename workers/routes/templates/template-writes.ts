import { checkFrontmatterQuery } from "../../../shared/generate/frontmatter-query";
import { type PlanName, planLimits } from "../../../shared/plans";
import { QuotaExceededError } from "../../../shared/quota-errors";
import { inspectTemplate } from "../../../shared/template/kgen/inspect-template";
import type { TenantSnapshot } from "../../context";
import { database } from "../../db/client";
import type { TemplateRow } from "../../db/schema";
import { notFound } from "../../problems/problem-response";
import { TemplateCatalog } from "../../repository/templates";
import { ContentStore } from "../../storage/content-store";
import { tenantObject } from "../../tenant-object-stub";

/** Who writes, for the audit record and the event. */
export interface TemplateWriter {
  actor: string;
  requestId: string;
}

/** The checks a template source must pass before it is stored (its frontmatter and its query). */
export function checkTemplateSource(source: string): ReturnType<typeof inspectTemplate> {
  const inspection = inspectTemplate(source);
  checkFrontmatterQuery(source, inspection.frontmatter);
  return inspection;
}

/**
 * Stores a template source and records it (quota, blob, catalog row and `template.updated` event): the one
 * write path of `PUT /v1/templates/…` and of an import.
 */
export async function saveTemplate(
  env: Env,
  tenant: TenantSnapshot,
  writer: TemplateWriter,
  address: { generator: string; path: string },
  source: string,
): Promise<{ row: TemplateRow; created: boolean }> {
  const { generator, path } = address;
  const inspection = checkTemplateSource(source);
  const catalog = new TemplateCatalog(database(env.DB), tenant.id);
  const existing = await catalog.find(generator, path);
  const tenantDo = tenantObject(env, tenant);
  if (!existing) {
    const limit = planLimits(tenant.plan as PlanName).templates;
    const reservation = await tenantDo.reserveQuota({ counter: "templates", amount: 1, limit });
    if (!reservation.granted) {
      throw new QuotaExceededError(
        "templates",
        limit,
        reservation.used,
        `The ${tenant.plan} plan allows ${limit} templates.`,
      );
    }
  }
  try {
    const stored = await new ContentStore(env.ARTIFACTS, tenant.id).put(
      new TextEncoder().encode(source) as Uint8Array<ArrayBuffer>,
      "text/plain; charset=utf-8",
    );
    const now = new Date();
    await tenantDo.recordTemplateChange(
      tenant.id,
      {
        kind: "put",
        template: {
          generator,
          path,
          hash: stored.sha256,
          size: stored.size,
          frontmatter: inspection.frontmatter as Record<string, unknown>,
          variables: inspection.variables,
          createdAt: existing?.createdAt ?? now.toISOString(),
          updatedAt: now.toISOString(),
        },
        actor: writer.actor,
        requestId: writer.requestId,
      },
      { type: "template.updated", data: { path, generator, sha256: stored.sha256 }, createdAt: now.getTime() },
    );
  } catch (error) {
    if (!existing) await tenantDo.releaseQuota({ counter: "templates", amount: 1 });
    throw error;
  }
  const row = await catalog.find(generator, path);
  if (!row) throw notFound("The template");
  return { row, created: !existing };
}

/** Deletes a template (catalog row and `template.deleted` event) and releases its quota; false when absent. */
export async function removeTemplate(
  env: Env,
  tenant: TenantSnapshot,
  writer: TemplateWriter,
  address: { generator: string; path: string },
): Promise<boolean> {
  const tenantDo = tenantObject(env, tenant);
  const now = new Date();
  const { generator, path } = address;
  const { changed } = await tenantDo.recordTemplateChange(
    tenant.id,
    { kind: "delete", generator, path, actor: writer.actor, requestId: writer.requestId, now: now.toISOString() },
    { type: "template.deleted", data: { path, generator }, createdAt: now.getTime() },
  );
  if (changed) await tenantDo.releaseQuota({ counter: "templates", amount: 1 });
  return changed;
}
