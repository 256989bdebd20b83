import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type CentralCallInterceptor, type CentralCallSite, wrapCentralBindings } from "../support/central-bindings";

/** An env whose central calls are recorded, then made. */
function recorded(): { env: Env; sites: CentralCallSite[] } {
  const sites: CentralCallSite[] = [];
  const intercept: CentralCallInterceptor = (site, call) => {
    sites.push(site);
    return call();
  };
  return { env: wrapCentralBindings(env, intercept), sites };
}

const described = (sites: CentralCallSite[]) => sites.map(({ store, method, sql }) => ({ store, method, sql }));

describe("central binding wrappers", () => {
  it("D1: statements (bound, in a session), batches and exec, each with its SQL, results unchanged", async () => {
    const { env: wrapped, sites } = recorded();
    const session = wrapped.DB.withSession("first-unconstrained");
    expect(await session.prepare("select ?1 as v").bind(7).first()).toEqual({ v: 7 });
    const [one, two] = await wrapped.DB.batch([
      wrapped.DB.prepare("select 1 as a"),
      wrapped.DB.prepare("select ?1 as b").bind(2),
    ]);
    expect(one?.results).toEqual([{ a: 1 }]);
    expect(two?.results).toEqual([{ b: 2 }]);
    await wrapped.DB.exec("select 1");
    expect(typeof session.getBookmark).toBe("function");
    expect(described(sites)).toEqual([
      { store: "d1", method: "first", sql: ["select ?1 as v"] },
      { store: "d1", method: "batch", sql: ["select 1 as a", "select ?1 as b"] },
      { store: "d1", method: "exec", sql: ["select 1"] },
    ]);
  });

  it("Durable Objects: RPC methods of either namespace's stubs, named by store; ids are not calls", async () => {
    const { env: wrapped, sites } = recorded();
    const metrics = wrapped.METRICS_OBJECT.get(wrapped.METRICS_OBJECT.idFromName("global"));
    const snapshot = await metrics.snapshot();
    expect(snapshot).toBeTypeOf("object");
    expect(sites.map(({ store, method }) => `${store}:${method}`)).toEqual(["metrics-object:snapshot"]);
    expect(sites[0]?.stub).toBeDefined();
  });

  it("R2 and queues: the listed calls go through the interceptor; one it does not make never reaches the store", async () => {
    const sites: CentralCallSite[] = [];
    const withheld = wrapCentralBindings(env, (site) => {
      sites.push(site);
      return Promise.resolve(undefined);
    });
    const key = `central-bindings/${crypto.randomUUID()}`;
    await withheld.ARTIFACTS.put(key, "bytes");
    await withheld.ERASE_QUEUE.send({ never: "sent" });
    expect(await env.ARTIFACTS.head(key)).toBeNull();
    expect(sites.map(({ store, method }) => `${store}:${method}`)).toEqual(["r2:put", "queue:send"]);

    const { env: wrapped, sites: made } = recorded();
    await wrapped.ARTIFACTS.put(key, "bytes");
    expect(await (await wrapped.ARTIFACTS.get(key))?.text()).toBe("bytes");
    await wrapped.ARTIFACTS.delete(key);
    expect(made.map(({ store, method }) => `${store}:${method}`)).toEqual(["r2:put", "r2:get", "r2:delete"]);
  });
});
