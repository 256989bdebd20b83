import { planPeriods, USAGE_METRICS } from "../../../shared/contracts/usage";
import { csvRecord } from "../../../shared/core/csv";
import { base64ToBytes, bytesToBase64Url, utf8 } from "../../../shared/core/encoding";
import { database } from "../../db/client";
import type { AppRouteHandler } from "../../openapi";
import { invalidField } from "../../problems/problem-response";
import { pageOf } from "../../repository/pagination";
import { UsageLedger } from "../../repository/usage-ledger";
import type * as routes from "./admin-usage.routes";

const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;

function decodeTenantCursor(cursor: string): string {
  try {
    const tenantId = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(base64ToBytes(cursor));
    if (TENANT_ID.test(tenantId)) return tenantId;
  } catch {
    // answered below
  }
  throw invalidField("cursor", "Not a cursor returned by this API.", "query");
}

const CSV_COLUMNS = [
  "tenant_id",
  "slug",
  "month",
  ...USAGE_METRICS.map((metric) => metric.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)),
  "rolled_up_at",
  "plan_periods",
];

export const usageExport: AppRouteHandler<typeof routes.usageExport> = async (c) => {
  const { month, format, limit, cursor } = c.req.valid("query");
  const after = cursor === undefined ? "" : decodeTenantCursor(cursor);
  const ledger = new UsageLedger(database(c.env.DB));
  const rows = await ledger.page(month, limit, after);
  const page = pageOf(
    rows,
    limit,
    (row) => row,
    (row) => bytesToBase64Url(utf8(row.tenantId)),
  );
  const changes = await ledger.planChangesFrom(
    month,
    page.items.map((row) => row.tenantId),
  );
  const items = page.items.map((row) => ({
    tenantId: row.tenantId,
    slug: row.slug,
    month,
    ...row.figures,
    rolledUpAt: row.rolledUpAt,
    planPeriods: planPeriods(month, row.plan, changes.get(row.tenantId) ?? []),
  }));
  if (format === "json") return c.json({ month, items, nextCursor: page.nextCursor }, 200);
  const csv = [
    csvRecord(CSV_COLUMNS),
    ...items.map((item) =>
      csvRecord([
        item.tenantId,
        item.slug,
        month,
        ...USAGE_METRICS.map((metric) => item[metric]),
        item.rolledUpAt,
        JSON.stringify(item.planPeriods),
      ]),
    ),
  ].join("");
  const headers: Record<string, string> = { "content-type": "text/csv; charset=utf-8; header=present" };
  if (page.nextCursor !== null) {
    const next = new URLSearchParams({ month, format, limit: String(limit), cursor: page.nextCursor });
    headers.link = `</v1/admin/usage?${next}>; rel="next"`;
  }
  return c.body(csv, 200, headers);
};
