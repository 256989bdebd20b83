// TEMPORARY (not for main): replaced by the drift check and impact analysis at integration.
import type { TenantSnapshot } from "../context";
import type { JobRow } from "../db/schema";
import type { CheckOutcome } from "./monitor-run-consumer";

export const monitorChecks = {
  async driftCheck(
    _env: Env,
    _tenant: TenantSnapshot,
    _job: JobRow,
    _files: { path: string; sha256: string }[],
  ): Promise<CheckOutcome> {
    throw new Error("not wired");
  },
  async impact(
    _env: Env,
    _tenant: TenantSnapshot,
    _job: JobRow,
    _version: number,
    _regenerate: boolean,
  ): Promise<CheckOutcome> {
    throw new Error("not wired");
  },
};
