import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with one request: pass it on (optionally rewriting the answer) or answer itself. */
export type Fault =
  | { kind: "pass" }
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** Forwards, then sends only the first half of the body and drops the connection. */
  | { kind: "cut" }
  /** Forwards, then answers with `rewrite(body)` instead. */
  | { kind: "rewrite"; rewrite: (body: Uint8Array) => Uint8Array };

export interface FaultProxy {
  url: string;
  /** Every request seen, as `METHOD /path`. */
  seen: string[];
  /** Decides each request's fate; the default passes everything. */
  rule: (method: string, path: string, index: number) => Fault;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

async function forward(upstream: string, request: IncomingMessage, body: Uint8Array): Promise<Response> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    const hopByHop = ["host", "connection", "content-length", "transfer-encoding", "keep-alive"].includes(name);
    if (typeof value === "string" && !hopByHop) headers.set(name, value);
  }
  return fetch(`${upstream}${request.url}`, {
    method: request.method,
    headers,
    body: body.length > 0 ? body : undefined,
    redirect: "manual",
  });
}

function send(
  response: ServerResponse,
  status: number,
  headers: Headers | Record<string, string>,
  body: Uint8Array,
): void {
  const plain: Record<string, string> = {};
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  for (const [name, value] of entries) {
    if (name !== "content-length" && name !== "content-encoding" && name !== "transfer-encoding") plain[name] = value;
  }
  response.writeHead(status, { ...plain, "content-length": String(body.length) });
  response.end(body);
}

/** An HTTP proxy in front of a platform that injects faults the real Worker does not produce on demand. */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const proxy: FaultProxy = {
    url: "",
    seen: [],
    rule: () => ({ kind: "pass" }),
    close: async () => undefined,
  };
  const server = createServer((request, response) => {
    const index = proxy.seen.push(`${request.method} ${request.url}`) - 1;
    const fault = proxy.rule(request.method ?? "GET", request.url ?? "/", index);
    void (async () => {
      // Read the whole request first, so a connection the client keeps alive is left clean for the next one.
      const body = await readBody(request);
      if (fault.kind === "status") {
        send(response, fault.status, fault.headers ?? {}, new TextEncoder().encode(fault.body ?? ""));
        return;
      }
      const answer = await forward(upstream, request, body);
      const answerBody = new Uint8Array(await answer.arrayBuffer());
      if (fault.kind === "cut") {
        response.writeHead(answer.status, { "content-length": String(answerBody.length) });
        response.write(answerBody.slice(0, Math.floor(answerBody.length / 2)), () => response.socket?.destroy());
        return;
      }
      send(response, answer.status, answer.headers, fault.kind === "rewrite" ? fault.rewrite(answerBody) : answerBody);
    })().catch(() => response.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
