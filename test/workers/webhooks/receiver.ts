import { vi } from "vitest";

/** A request the Worker sent to a test receiver. */
export interface ReceivedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
}

/** Answers a captured request; `signal` is the sender's abort signal (a receiver that hangs can honour it). */
export type Responder = (request: ReceivedRequest, signal: AbortSignal) => Response | Promise<Response>;

/**
 * Outbound capture: the Worker, its Durable Object and its queue consumers run in the tests' isolate, so a
 * spy on globalThis.fetch sees every delivery. Requests to `https://<name>.receiver.test/…` go to the
 * responder registered for `<name>`; everything else goes out as it would.
 */
export function installReceivers() {
  const responders = new Map<string, Responder>();
  const received = new Map<string, ReceivedRequest[]>();
  const original = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init as RequestInit);
    const url = new URL(request.url);
    const name = url.hostname.endsWith(".receiver.test") ? url.hostname.slice(0, -".receiver.test".length) : null;
    const responder = name === null ? undefined : responders.get(name);
    if (name === null || responder === undefined) return original(input as RequestInfo, init as RequestInit);
    const captured: ReceivedRequest = {
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
      receivedAt: Date.now(),
    };
    received.set(name, [...(received.get(name) ?? []), captured]);
    return responder(captured, request.signal);
  });
  let counter = 0;
  return {
    /** A new receiver; returns its URL. */
    add(responder: Responder = () => new Response("ok")): { url: string; name: string } {
      counter += 1;
      const name = `r${counter}-${crypto.randomUUID().slice(0, 8)}`;
      responders.set(name, responder);
      return { url: `https://${name}.receiver.test/hook`, name };
    },
    /** Changes how a receiver answers from now on. */
    respondWith(name: string, responder: Responder) {
      responders.set(name, responder);
    },
    received(name: string): ReceivedRequest[] {
      return received.get(name) ?? [];
    },
  };
}
