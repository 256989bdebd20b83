import { exports } from "cloudflare:workers";
import { Readable } from "node:stream";
import { BASE } from "./helpers";

type ClientBody = RequestInit["body"] | AsyncIterable<unknown>;

/** A Node stream (sparql-http-client's Graph Store bodies) read whole: workerd's Request takes Web bodies only. */
async function webBody(body: ClientBody | null | undefined): Promise<RequestInit["body"]> {
  if (body && typeof body === "object" && Symbol.asyncIterator in body && !(body instanceof ReadableStream)) {
    let text = "";
    for await (const chunk of body as AsyncIterable<unknown>)
      text += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk as Uint8Array);
    return text;
  }
  return body as RequestInit["body"];
}

/** A `fetch` for SPARQL client libraries: every request goes to the worker with the tenant's bearer credential. */
export function workerFetch(apiKey: string): typeof fetch {
  return (async (input: RequestInfo | URL, init: RequestInit & { duplex?: string } = {}) => {
    const { duplex: _duplex, ...rest } = init;
    const request = new Request(input, { ...rest, body: await webBody(rest.body as ClientBody) });
    request.headers.set("authorization", `Bearer ${apiKey}`);
    return exports.default.fetch(request);
  }) as typeof fetch;
}

export const sparqlEndpoint = (graph: string) => `${BASE}/v1/graphs/${graph}/sparql`;
export const graphStoreEndpoint = (graph: string) => `${BASE}/v1/graphs/${graph}/store`;

/**
 * The same, answering with a Node stream body as sparql-http-client expects of its default fetch
 * (nodeify-fetch): the response is read whole first, which is fine for test-sized results.
 */
export function nodeStreamFetch(apiKey: string): typeof fetch {
  const webFetch = workerFetch(apiKey);
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await webFetch(input, init);
    const text = await response.text();
    return {
      ok: response.ok,
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
      text: async () => text,
      json: async () => JSON.parse(text),
      body: Readable.from([text]),
    };
  }) as unknown as typeof fetch;
}

/** Removes the stand-in `window` that loading sparql-http-client needed (see sparql-client-window.ts). */
export function removeWindowStandIn(): void {
  delete (globalThis as { window?: unknown }).window;
}
