import type { DriftReportView, DriftRequest } from "../../shared/contracts/drift";

/** R2 key of a report, or of the request a queued check runs from, in the tenant's namespace. */
export const driftReportKey = (tenantId: string, reportId: string) => `t/${tenantId}/drift/${reportId}/report.json`;
export const driftRequestKey = (tenantId: string, reportId: string) => `t/${tenantId}/drift/${reportId}/request.json`;

/** A queued check as stored: the request with its paths validated and the job it was resolved to. */
export interface StoredDriftRequest {
  job: string;
  files: DriftRequest["files"];
  paths?: string[];
}

/** Drift reports (and queued requests) as JSON objects in R2, per tenant. */
export class DriftReportStore {
  constructor(
    private readonly bucket: R2Bucket,
    private readonly tenantId: string,
  ) {}

  async putReport(report: DriftReportView): Promise<void> {
    await this.bucket.put(driftReportKey(this.tenantId, report.id), JSON.stringify(report), {
      httpMetadata: { contentType: "application/json" },
    });
  }

  async report(reportId: string): Promise<DriftReportView | null> {
    const object = await this.bucket.get(driftReportKey(this.tenantId, reportId));
    return object ? ((await object.json()) as DriftReportView) : null;
  }

  async putRequest(reportId: string, request: StoredDriftRequest): Promise<string> {
    const key = driftRequestKey(this.tenantId, reportId);
    await this.bucket.put(key, JSON.stringify(request), { httpMetadata: { contentType: "application/json" } });
    return key;
  }

  async request(reportId: string): Promise<StoredDriftRequest | null> {
    const object = await this.bucket.get(driftRequestKey(this.tenantId, reportId));
    return object ? ((await object.json()) as StoredDriftRequest) : null;
  }

  /** The request is not needed once its report exists. */
  async deleteRequest(reportId: string): Promise<void> {
    await this.bucket.delete(driftRequestKey(this.tenantId, reportId));
  }
}
