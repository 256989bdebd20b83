import { checkDestination, type DestinationPolicy, UnsafeDestinationError } from "./destination-guard";

export interface GuardedFetchOptions {
  policy: DestinationPolicy;
  /** Whole request, redirects included. */
  timeoutMs: number;
  /** The response body is read up to this many bytes; more fails with ResponseTooLargeError. */
  maxResponseBytes: number;
  maxRedirects?: number;
  /** Read the body only up to maxResponseBytes and keep what fits instead of failing (delivery logs). */
  truncateBody?: boolean;
}

export interface GuardedResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  /** True when truncateBody cut the body short. */
  truncated: boolean;
  /** The URL that answered, after redirects. */
  url: string;
}

export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the response body is larger than ${limit} bytes`);
    this.name = "ResponseTooLargeError";
  }
}

export class OutboundTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no complete response within ${timeoutMs} ms`);
    this.name = "OutboundTimeoutError";
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * fetch() for destinations a tenant chose: every hop is checked by checkDestination, redirects are
 * followed by hand (at most maxRedirects), the whole exchange has one deadline, and the body is read
 * with a byte cap.
 */
export async function guardedFetch(
  rawUrl: string,
  init: { method: string; headers?: Record<string, string>; body?: string | Uint8Array },
  options: GuardedFetchOptions,
): Promise<GuardedResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    let url = checkDestination(rawUrl, options.policy);
    let method = init.method;
    let body = init.body;
    for (let hop = 0; ; hop++) {
      const response = await fetch(url, {
        method,
        headers: init.headers,
        body: method === "GET" || method === "HEAD" ? undefined : body,
        redirect: "manual",
        signal: controller.signal,
      });
      const location = response.headers.get("location");
      if (REDIRECTS.has(response.status) && location !== null) {
        await response.body?.cancel();
        if (hop >= (options.maxRedirects ?? 3)) {
          throw new UnsafeDestinationError(url.href, `more than ${options.maxRedirects ?? 3} redirects`);
        }
        url = checkDestination(new URL(location, url).href, options.policy);
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
        }
        continue;
      }
      const { bytes, truncated } = await readCapped(response, options.maxResponseBytes, options.truncateBody ?? false);
      return { status: response.status, headers: response.headers, body: bytes, truncated, url: url.href };
    }
  } catch (error) {
    if (controller.signal.aborted) throw new OutboundTimeoutError(options.timeoutMs);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function readCapped(
  response: Response,
  limit: number,
  truncate: boolean,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const declared = Number(response.headers.get("content-length"));
  if (!truncate && Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw new ResponseTooLargeError(limit);
  }
  if (response.body === null) return { bytes: new Uint8Array(0), truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      await reader.cancel();
      if (!truncate) throw new ResponseTooLargeError(limit);
      chunks.push(value.subarray(0, limit - size));
      size = limit;
      return { bytes: concat(chunks, size), truncated: true };
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { bytes: concat(chunks, size), truncated: false };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
