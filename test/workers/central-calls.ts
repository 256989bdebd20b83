import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../workers/index";
import { requestUsageBatch } from "../../workers/middleware/request-usage-batch";
import { BASE } from "./helpers";

/** One call from the Worker to a central store: D1, a tenant Durable Object (by RPC method), R2, a queue. */
export interface CentralCall {
  store: "d1" | "tenant-object" | "r2" | "queue";
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
    const wrapped: Record<string, unknown> = { ...base };
    wrapped.DB = this.d1(base.DB);
    wrapped.TENANT = this.namespace(base.TENANT);
    wrapped.ARTIFACTS = this.methods(base.ARTIFACTS, "r2", [
      "get",
      "head",
      "put",
      "list",
      "delete",
      "createMultipartUpload",
    ]);
    for (const name of ["GENERATE_QUEUE", "DRIFT_QUEUE", "DELIVER_QUEUE"] as const) {
      wrapped[name] = this.methods(base[name], "queue", ["send", "sendBatch"]);
    }
    return wrapped as unknown as Env;
  }

  private log(store: CentralCall["store"], method: string): void {
    this.calls.push({ store, name: `${store}:${method}` });
  }

  /** Counted method calls, everything else passed through (bound to the real object). */
  private methods<T extends object>(target: T, store: CentralCall["store"], counted: string[]): T {
    return new Proxy(target, {
      get: (real, prop) => {
        const value = Reflect.get(real, prop, real);
        if (typeof value !== "function") return value;
        if (typeof prop === "string" && counted.includes(prop)) {
          return (...args: unknown[]) => {
            this.log(store, prop);
            return value.apply(real, args);
          };
        }
        return value.bind(real);
      },
    });
  }

  private d1(db: D1Database): D1Database {
    const statements = new WeakMap<object, D1PreparedStatement>();
    const statement = (real: D1PreparedStatement): D1PreparedStatement => {
      const proxy = new Proxy(real, {
        get: (target, prop) => {
          const value = Reflect.get(target, prop, target);
          if (typeof value !== "function") return value;
          if (prop === "bind") return (...args: unknown[]) => statement(value.apply(target, args));
          if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
            return (...args: unknown[]) => {
              this.log("d1", prop);
              return value.apply(target, args);
            };
          }
          return value.bind(target);
        },
      });
      statements.set(proxy, real);
      return proxy;
    };
    const database = <D extends Pick<D1Database, "prepare" | "batch">>(real: D): D =>
      new Proxy(real, {
        get: (target, prop) => {
          const value = Reflect.get(target, prop, target);
          if (typeof value !== "function") return value;
          if (prop === "prepare") return (query: string) => statement(value.call(target, query));
          if (prop === "batch") {
            return (batch: D1PreparedStatement[]) => {
              this.log("d1", "batch");
              return value.call(
                target,
                batch.map((item) => statements.get(item) ?? item),
              );
            };
          }
          if (prop === "exec") {
            return (query: string) => {
              this.log("d1", "exec");
              return value.call(target, query);
            };
          }
          if (prop === "withSession") {
            return (constraint?: string) => database(value.call(target, constraint));
          }
          return value.bind(target);
        },
      });
    return database(db);
  }

  private namespace(ns: DurableObjectNamespace): DurableObjectNamespace {
    return new Proxy(ns, {
      get: (target, prop) => {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "get") return (...args: unknown[]) => this.stub(value.apply(target, args));
        if (prop === "jurisdiction") return (...args: unknown[]) => this.namespace(value.apply(target, args));
        return value.bind(target);
      },
    });
  }

  private stub(real: DurableObjectStub): DurableObjectStub {
    return new Proxy(real, {
      get: (target, prop) => {
        if (prop === "then") return undefined;
        const value = Reflect.get(target, prop, target);
        if (typeof prop !== "string" || typeof value !== "function") return value;
        return (...args: unknown[]) => {
          this.log("tenant-object", prop);
          // An RPC method is itself a stub: call it as the Worker would, never through Function.prototype.
          return (target as unknown as Record<string, (...args: unknown[]) => unknown>)[prop]?.(...args);
        };
      },
    });
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
