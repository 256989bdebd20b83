import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../workers/index";
import { requestUsageBatch } from "../../workers/middleware/request-usage-batch";
import {
  type CentralCallInterceptor,
  type CentralStore,
  wrapD1,
  wrapDurableObjectNamespace,
  wrapQueue,
  wrapR2Bucket,
} from "../support/central-bindings";
import { BASE } from "./helpers";

/** One call from the Worker to a central store: D1, a tenant Durable Object (by RPC method), R2, a queue. */
export interface CentralCall {
  store: CentralStore;
  /** `d1:first`, `tenant-object:graphQuery`, `r2:get`, … */
  name: string;
}

/**
 * Wraps the bindings that reach central stores so that every call through them is logged. D1
 * statements, Durable Object stubs (of any namespace reached through `jurisdiction()` too) and R2
 * buckets keep working unchanged; only the log is added.
 */
export class CentralCallLog {
  readonly calls: CentralCall[] = [];

  count(store?: CentralCall["store"]): number {
    return store === undefined ? this.calls.length : this.calls.filter((call) => call.store === store).length;
  }

  names(): string[] {
    return this.calls.map((call) => call.name);
  }

  wrap(base: Env): Env {
    const logged: CentralCallInterceptor = ({ store, method }, call) => {
      this.calls.push({ store, name: `${store}:${method}` });
      return call();
    };
    return {
      ...base,
      DB: wrapD1(base.DB, logged),
      TENANT: wrapDurableObjectNamespace(base.TENANT, "tenant-object", logged),
      ARTIFACTS: wrapR2Bucket(base.ARTIFACTS, logged),
      GENERATE_QUEUE: wrapQueue(base.GENERATE_QUEUE, logged),
      DRIFT_QUEUE: wrapQueue(base.DRIFT_QUEUE, logged),
      DELIVER_QUEUE: wrapQueue(base.DELIVER_QUEUE, logged),
    };
  }
}

export interface CountedResponse {
  response: Response;
  /** The body, read in full before the request path's count is taken (streams may call on). */
  body: ArrayBuffer;
  /** Calls made before the response body was complete. */
  onPath: CentralCall[];
  /** Calls made afterwards, in waitUntil (metering and other deferred work). */
  deferred: CentralCall[];
}

/**
 * Sends one request to the Worker with counting bindings and returns the central calls it made on
 * its path and after it. Usage batches waiting from earlier requests are written first, and this
 * request's own batch is written before returning, so `deferred` holds its metering.
 */
export async function countedCall(path: string, init: RequestInit = {}, base: Env = env): Promise<CountedResponse> {
  await requestUsageBatch.flush(base, Date.now());
  await requestUsageBatch.idle();
  const log = new CentralCallLog();
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`, init), log.wrap(base), ctx);
  const body = await response.arrayBuffer();
  const onPath = [...log.calls];
  await waitOnExecutionContext(ctx);
  return { response, body, onPath, deferred: log.calls.slice(onPath.length) };
}

/** `{ "d1:first": 1, "tenant-object:graphQuery": 1 }`: a readable summary for assertions. */
export function tally(calls: CentralCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) counts[call.name] = (counts[call.name] ?? 0) + 1;
  return counts;
}
