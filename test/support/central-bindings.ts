// Wrapping the bindings through which a Worker reaches central stores, so that a test or a bench build can
// see (count, fail, delay) every call that leaves the location. Nothing here imports `cloudflare:test`: the
// bench build bundles it into a Worker of its own.

/** The central store a call goes to. */
export type CentralStore = "d1" | "tenant-object" | "metrics-object" | "r2" | "queue";

/** One call through a wrapped binding, as the interceptor sees it. */
export interface CentralCallSite {
  store: CentralStore;
  /** `first`, `batch` (D1), an RPC method name or `fetch` (Durable Object), `put` (R2), `send` (queue), … */
  method: string;
  /** D1 only: the SQL of the statement, or of every statement of a batch. */
  sql?: string[];
  /** Durable Object calls only: the unwrapped stub the call goes through. */
  stub?: DurableObjectStub;
}

/**
 * Decides what happens to one call: `call` makes it for real (once, or not at all). Returning its result
 * unchanged keeps the binding's own return value (an RPC method's result is itself a stub).
 */
export type CentralCallInterceptor = (site: CentralCallSite, call: () => unknown) => unknown;

const R2_CALLS = ["get", "head", "put", "list", "delete", "createMultipartUpload"];
const QUEUE_CALLS = ["send", "sendBatch"];
const STATEMENT_CALLS = ["first", "all", "run", "raw"];

/** Intercepts the listed methods of `target`; every other member passes through, bound to the real object. */
export function wrapMethods<T extends object>(
  target: T,
  store: CentralStore,
  methods: readonly string[],
  intercept: CentralCallInterceptor,
): T {
  return new Proxy(target, {
    get: (real, prop) => {
      const value = Reflect.get(real, prop, real);
      if (typeof value !== "function") return value;
      if (typeof prop === "string" && methods.includes(prop)) {
        return (...args: unknown[]) => intercept({ store, method: prop }, () => value.apply(real, args));
      }
      return value.bind(real);
    },
  });
}

export const wrapR2Bucket = (bucket: R2Bucket, intercept: CentralCallInterceptor): R2Bucket =>
  wrapMethods(bucket, "r2", R2_CALLS, intercept);

export const wrapQueue = <Q extends object>(queue: Q, intercept: CentralCallInterceptor): Q =>
  wrapMethods(queue, "queue", QUEUE_CALLS, intercept);

/**
 * A D1 database whose statement executions (`first`, `all`, `run`, `raw`), `batch` and `exec` are
 * intercepted, in sessions (`withSession`) too. Statements keep their SQL through `bind`, and a batch of
 * wrapped statements is handed to D1 as the real ones.
 */
export function wrapD1(db: D1Database, intercept: CentralCallInterceptor): D1Database {
  const originals = new WeakMap<object, { real: D1PreparedStatement; sql: string }>();
  const statement = (real: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(real, {
      get: (target, prop) => {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...args: unknown[]) => statement(value.apply(target, args), sql);
        if (typeof prop === "string" && STATEMENT_CALLS.includes(prop)) {
          return (...args: unknown[]) =>
            intercept({ store: "d1", method: prop, sql: [sql] }, () => value.apply(target, args));
        }
        return value.bind(target);
      },
    });
    originals.set(proxy, { real, sql });
    return proxy;
  };
  const database = <D extends Pick<D1Database, "prepare" | "batch">>(real: D): D =>
    new Proxy(real, {
      get: (target, prop) => {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "prepare") return (query: string) => statement(value.call(target, query), query);
        if (prop === "batch") {
          return (batch: D1PreparedStatement[]) => {
            const unwrapped = batch.map((item) => originals.get(item) ?? { real: item, sql: "" });
            return intercept({ store: "d1", method: "batch", sql: unwrapped.map((item) => item.sql) }, () =>
              value.call(
                target,
                unwrapped.map((item) => item.real),
              ),
            );
          };
        }
        if (prop === "exec") {
          return (query: string) =>
            intercept({ store: "d1", method: "exec", sql: [query] }, () => value.call(target, query));
        }
        if (prop === "withSession") return (constraint?: string) => database(value.call(target, constraint));
        return value.bind(target);
      },
    });
  return database(db);
}

/**
 * A Durable Object namespace whose stubs (from `get`, `getByName`, and in any `jurisdiction()`) have every
 * method call intercepted: RPC methods and `fetch`. Ids and the namespace's other members pass through.
 */
export function wrapDurableObjectNamespace<N extends DurableObjectNamespace>(
  ns: N,
  store: CentralStore,
  intercept: CentralCallInterceptor,
): N {
  const stub = (real: DurableObjectStub): DurableObjectStub =>
    new Proxy(real, {
      get: (target, prop) => {
        // A stub is not a thenable, whatever an RPC method named `then` would suggest.
        if (prop === "then") return undefined;
        const value = Reflect.get(target, prop, target);
        if (typeof prop !== "string" || typeof value !== "function") return value;
        return (...args: unknown[]) =>
          intercept({ store, method: prop, stub: real }, () =>
            // An RPC method is itself a stub: call it as the Worker would, never through Function.prototype.
            (target as unknown as Record<string, (...args: unknown[]) => unknown>)[prop]?.(...args),
          );
      },
    });
  return new Proxy(ns, {
    get: (target, prop) => {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "get" || prop === "getByName") {
        return (...args: unknown[]) => stub(value.apply(target, args));
      }
      if (prop === "jurisdiction") {
        return (...args: unknown[]) => wrapDurableObjectNamespace(value.apply(target, args), store, intercept);
      }
      return value.bind(target);
    },
  });
}

/**
 * `base` with every binding that reaches a central store wrapped: D1, both Durable Object namespaces, R2
 * and the queue producers. Analytics Engine writes are fire-and-forget and the rate limiters answer at
 * the location, so they pass through.
 */
export function wrapCentralBindings(base: Env, intercept: CentralCallInterceptor): Env {
  return {
    ...base,
    DB: wrapD1(base.DB, intercept),
    TENANT: wrapDurableObjectNamespace(base.TENANT, "tenant-object", intercept),
    METRICS_OBJECT: wrapDurableObjectNamespace(base.METRICS_OBJECT, "metrics-object", intercept),
    ARTIFACTS: wrapR2Bucket(base.ARTIFACTS, intercept),
    GENERATE_QUEUE: wrapQueue(base.GENERATE_QUEUE, intercept),
    DRIFT_QUEUE: wrapQueue(base.DRIFT_QUEUE, intercept),
    DELIVER_QUEUE: wrapQueue(base.DELIVER_QUEUE, intercept),
    ERASE_QUEUE: wrapQueue(base.ERASE_QUEUE, intercept),
  };
}
