import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import {
  type CentralCallInterceptor,
  wrapD1,
  wrapDurableObjectNamespace,
  wrapR2Bucket,
} from "../../support/central-bindings";

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
    const faulty: CentralCallInterceptor = ({ store, method, sql, stub }, call) =>
      store === "d1" || store === "r2" || store === "tenant-object"
        ? this.apply(store, method, async () => call(), sql, stub)
        : call();
    return {
      ...base,
      DB: wrapD1(base.DB, faulty),
      TENANT: wrapDurableObjectNamespace(base.TENANT, "tenant-object", faulty),
      ARTIFACTS: wrapR2Bucket(base.ARTIFACTS, faulty),
    };
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
