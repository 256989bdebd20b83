// The bench build of the Worker (`npm run bench -- latency`): the product's Worker, unchanged, with every
// call through a central binding (D1, the tenant and metrics Durable Objects, R2, the queue producers) made
// `RTT_MS` (a var, default 100) later, as if the store were a round trip away. Only the Worker's env is
// wrapped: a Durable Object's own calls stay inside its location. Each response carries the central calls
// its request made before the response was returned, in `x-bench-central-calls`
// (`d1:raw=1,tenant-object:graphQuery=1`, or `none`); calls made while the body streams or in `waitUntil`
// are not in it.
//
// Only the temporary wrangler configuration the bench writes names this file as `main`; nothing in the
// production build imports it.
import { AsyncLocalStorage } from "node:async_hooks";
import { type CentralCallInterceptor, wrapCentralBindings } from "../test/support/central-bindings";
import worker from "../workers/index";
import { CENTRAL_CALLS_HEADER } from "./round-trip-header";

export * from "../workers/index";

const DEFAULT_RTT_MS = 100;

/** The central calls of one request, by `store:method`, in the order first seen. */
class RequestCalls {
  private readonly counts = new Map<string, number>();

  add(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  summary(): string {
    if (this.counts.size === 0) return "none";
    return [...this.counts].map(([name, count]) => `${name}=${count}`).join(",");
  }
}

const currentRequest = new AsyncLocalStorage<RequestCalls>();

function roundTripMs(env: Env): number {
  const configured = Number((env as unknown as { RTT_MS?: string }).RTT_MS);
  return Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_RTT_MS;
}

const delayed =
  (ms: number): CentralCallInterceptor =>
  ({ store, method }, call) => {
    currentRequest.getStore()?.add(`${store}:${method}`);
    return new Promise((resolve) => setTimeout(resolve, ms)).then(call);
  };

// Wrapped once per environment object, as the product sees one env per isolate: its own per-env work
// (configuration checks) then runs as often as it does in production.
const wrapped = new WeakMap<Env, Env>();
function withRoundTrips(env: Env): Env {
  let roundTripEnv = wrapped.get(env);
  if (!roundTripEnv) {
    roundTripEnv = wrapCentralBindings(env, delayed(roundTripMs(env)));
    wrapped.set(env, roundTripEnv);
  }
  return roundTripEnv;
}

export default {
  async fetch(request, env, ctx) {
    const calls = new RequestCalls();
    const response = await currentRequest.run(calls, () => worker.fetch(request, withRoundTrips(env), ctx));
    if (response.webSocket) return response;
    const counted = new Response(response.body, response);
    counted.headers.set(CENTRAL_CALLS_HEADER, calls.summary());
    return counted;
  },
  queue(batch, env, ctx) {
    return worker.queue(batch, withRoundTrips(env), ctx);
  },
  scheduled(controller, env, ctx) {
    return worker.scheduled(controller, withRoundTrips(env), ctx);
  },
} satisfies ExportedHandler<Env>;
