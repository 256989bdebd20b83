import { evictDurableObject, runInDurableObject } from "cloudflare:test";

/**
 * What happens to a targeted call:
 * - `fail`: it throws before reaching the store (the store never sees it);
 * - `fail-after`: it reaches the store and takes effect, then the caller sees an error (a lost response);
 * - `evict`: the tenant's object is evicted (in-memory state gone, storage kept), then the call goes through;
 * - `evict-during`: the object is evicted while the call is in flight (eviction lets it drain first);
 * - `abort`: the tenant's object is aborted (reset), and the call, in flight when it was, throws.
 */
export type FaultEffect = "fail" | "fail-after" | "evict" | "evict-during" | "abort";

export interface Fault {
  store: "r2" | "d1" | "tenant-object";
  /** `put` (R2), `run`/`all`/`first`/`raw`/`batch` (D1), an RPC method name (tenant object). */
  method: string;
  /** D1 only: counts only statements whose SQL matches (a batch matches when any of its statements does). */
  sql?: RegExp;
  /** The first targeted call, 1-based among the calls this fault counts. */
  nth: number;
  /** How many calls from the nth on are hit (default 1; Infinity: every one). */
  times?: number;
  effect?: FaultEffect;
}

/** One fault that fired: which, on which call. */
export interface InjectedFault {
  store: Fault["store"];
  method: string;
  call: number;
  effect: FaultEffect;
}

/** The error a failing call throws, recognisable in logs and assertions. */
export class InjectedFaultError extends Error {
  constructor(fault: InjectedFault) {
    super(`injected fault: ${fault.store}:${fault.method} call ${fault.call} (${fault.effect})`);
    this.name = "InjectedFaultError";
  }
}

/**
 * Wraps an env so that chosen calls to R2 (`ARTIFACTS`), D1 (`DB`) and the tenant Durable Object (`TENANT`)
 * fail, or evict/abort the object, on the nth call (once or `times` times), everything else passing
 * through unchanged. The env is used for one attempt of a queue message; retries get the real env.
 */
export class FaultInjector {
  readonly injected: InjectedFault[] = [];
  private readonly seen = new Map<Fault, number>();

  constructor(private readonly faults: Fault[]) {}

  wrap(base: Env): Env {
    const wrapped: Record<string, unknown> = { ...base };
    wrapped.DB = this.d1(base.DB);
    wrapped.TENANT = this.namespace(base.TENANT);
    wrapped.ARTIFACTS = this.bucket(base.ARTIFACTS);
    return wrapped as unknown as Env;
  }

  /** The fault that hits this call, if any (counting the call for every fault it matches). */
  private hit(store: Fault["store"], method: string, sql?: string[]): { fault: Fault; injected: InjectedFault } | null {
    let found: { fault: Fault; injected: InjectedFault } | null = null;
    for (const fault of this.faults) {
      if (fault.store !== store || fault.method !== method) continue;
      if (fault.sql && !sql?.some((text) => fault.sql?.test(text))) continue;
      const call = (this.seen.get(fault) ?? 0) + 1;
      this.seen.set(fault, call);
      if (!found && call >= fault.nth && call < fault.nth + (fault.times ?? 1)) {
        found = { fault, injected: { store, method, call, effect: fault.effect ?? "fail" } };
      }
    }
    if (found) this.injected.push(found.injected);
    return found;
  }

  /** Runs `pass` with the effect of the fault hitting this call, if any. */
  private async apply<T>(
    store: Fault["store"],
    method: string,
    pass: () => Promise<T>,
    sql?: string[],
    stub?: DurableObjectStub,
  ): Promise<T> {
    const hit = this.hit(store, method, sql);
    if (!hit) return pass();
    const { injected } = hit;
    switch (injected.effect) {
      case "fail":
        throw new InjectedFaultError(injected);
      case "fail-after":
        await pass();
        throw new InjectedFaultError(injected);
      case "evict":
        if (!stub) throw new Error("evict applies to the tenant object only");
        await evictDurableObject(stub);
        return pass();
      case "evict-during": {
        if (!stub) throw new Error("evict-during applies to the tenant object only");
        const call = pass();
        const [result] = await Promise.all([call, evictDurableObject(stub)]);
        return result;
      }
      case "abort":
        if (!stub) throw new Error("abort applies to the tenant object only");
        {
          // state.abort() resets the object by throwing out of the call that made it.
          const aborted = await runInDurableObject(stub, (_instance, state) => state.abort("injected abort")).then(
            () => false,
            () => true,
          );
          if (!aborted) throw new Error("the tenant object was not aborted");
        }
        throw new InjectedFaultError(injected);
    }
  }

  private bucket(bucket: R2Bucket): R2Bucket {
    return new Proxy(bucket, {
      get: (real, prop) => {
        const value = Reflect.get(real, prop, real);
        if (typeof value !== "function") return value;
        if (typeof prop !== "string") return value.bind(real);
        return (...args: unknown[]) => this.apply("r2", prop, () => value.apply(real, args));
      },
    });
  }

  private d1(db: D1Database): D1Database {
    const originals = new WeakMap<object, { real: D1PreparedStatement; sql: string }>();
    const statement = (real: D1PreparedStatement, sql: string): D1PreparedStatement => {
      const proxy = new Proxy(real, {
        get: (target, prop) => {
          const value = Reflect.get(target, prop, target);
          if (typeof value !== "function") return value;
          if (prop === "bind") return (...args: unknown[]) => statement(value.apply(target, args), sql);
          if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
            return (...args: unknown[]) => this.apply("d1", prop, () => value.apply(target, args), [sql]);
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
              return this.apply(
                "d1",
                "batch",
                () =>
                  value.call(
                    target,
                    unwrapped.map((item) => item.real),
                  ),
                unwrapped.map((item) => item.sql),
              );
            };
          }
          if (prop === "withSession") return (constraint?: string) => database(value.call(target, constraint));
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
        return (...args: unknown[]) =>
          this.apply(
            "tenant-object",
            prop,
            // An RPC method is itself a stub: call it as the Worker would, never through Function.prototype.
            async () => (target as unknown as Record<string, (...args: unknown[]) => unknown>)[prop]?.(...args),
            undefined,
            real,
          );
      },
    });
  }
}

/** A `generate` queue that keeps what is sent to it, so that a test delivers each message itself. */
export class CapturedQueue<T> {
  readonly sent: T[] = [];

  send(body: T): Promise<void> {
    this.sent.push(body);
    return Promise.resolve();
  }

  sendBatch(messages: Iterable<{ body: T }>): Promise<void> {
    for (const message of messages) this.sent.push(message.body);
    return Promise.resolve();
  }

  /** Everything sent so far, and forgets it. */
  take(): T[] {
    return this.sent.splice(0);
  }
}

/**
 * Gives the tenant's object (its current instance) an env wrapped by `injector`, for the calls it makes to
 * D1 itself; the returned function puts the real env back.
 */
export async function injectIntoObject(stub: DurableObjectStub, injector: FaultInjector): Promise<() => Promise<void>> {
  const real = await runInDurableObject(stub, (instance: object) => {
    const object = instance as { env: Env };
    const env = object.env;
    object.env = injector.wrap(env);
    return env;
  });
  return async () => {
    await runInDurableObject(stub, (instance: object) => {
      (instance as { env: Env }).env = real;
    });
  };
}
