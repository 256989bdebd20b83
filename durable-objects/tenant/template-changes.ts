import { database } from "../../workers/db/client";
import type { TemplateRow } from "../../workers/db/schema";
import { TemplateCatalog } from "../../workers/repository/templates";

/** A template's change in D1 and who made it, carried to the tenant object in one call. */
export type TemplateChange =
  | { kind: "put"; template: Omit<TemplateRow, "tenantId">; actor: string; requestId: string }
  | { kind: "delete"; generator: string; path: string; actor: string; requestId: string; now: string };

export interface TemplateEvent {
  type: "template.updated" | "template.deleted";
  data: { path: string; generator: string; sha256?: string };
  createdAt: number;
}

/**
 * Applies a template change to D1 (row and audit record in one batch). The template lives in D1 and
 * its events in the tenant's SQLite, so they cannot share a transaction: the event is appended right
 * after, in the same call, and only when this returns true (a put always applies; a delete applies
 * when it removed the row).
 */
export async function applyTemplateChange(db: D1Database, tenantId: string, change: TemplateChange): Promise<boolean> {
  const catalog = new TemplateCatalog(database(db), tenantId);
  if (change.kind === "put") {
    await catalog.put(change.template, change.actor, change.requestId);
    return true;
  }
  return catalog.delete(change.generator, change.path, change.actor, change.requestId, change.now);
}
