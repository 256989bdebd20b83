import { CliError, EXIT } from "../exit-codes";
import type { Credentials } from "./credentials";

export interface ClientOptions {
  /** One request's deadline, from sending to the whole body read. */
  timeoutMs?: number;
  /** How many times a 429 is retried before giving up. */
  maxRetries?: number;
  /** The longest `Retry-After` honoured; a longer one gives up at once. */
  maxRetryAfterSeconds?: number;
  /** How a retry waits (tests and the CLI both use real time; injectable for the unit under test). */
  sleep?: (ms: number) => Promise<void>;
}

export interface RequestOptions {
  body?: string | Uint8Array;
  contentType?: string;
  accept?: string;
  /** Statuses that are answers, not failures (e.g. 404 when asking whether something exists). */
  expect?: readonly number[];
}

const DEFAULTS = { timeoutMs: 60_000, maxRetries: 3, maxRetryAfterSeconds: 60 };
/** How long an event stream may take to answer with its headers before the caller polls instead. */
const STREAM_HEADERS_TIMEOUT_MS = 10_000;

/** The `detail` (else `title`) and `type` slug of an RFC 9457 problem body, when the body is one. */
function problemOf(text: string): { detail: string | null; type: string | null } {
  try {
    const body = JSON.parse(text) as { detail?: unknown; title?: unknown; type?: unknown };
    const detail = typeof body.detail === "string" ? body.detail : typeof body.title === "string" ? body.title : null;
    const type = typeof body.type === "string" ? (body.type.split("/").pop() ?? null) : null;
    return { detail, type };
  } catch {
    return { detail: null, type: null };
  }
}

/** Seconds to wait from a `Retry-After` header (delta seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

function networkCause(error: unknown): string {
  let cause: unknown = error;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  if (error instanceof Error && error.name === "TimeoutError") return "timed out";
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * The platform's HTTP API with one credential. Every failure becomes one CliError line with a hint
 * and an exit code: unreachable, 5xx and exhausted 429s exit 5, 401/403 exit 4, other refusals exit 1.
 * The API key goes in the Authorization header only and is never part of a message.
 */
export class PlatformClient {
  private readonly options: Required<ClientOptions>;

  constructor(
    private readonly credentials: Credentials,
    options: ClientOptions = {},
  ) {
    this.options = {
      ...DEFAULTS,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
  }

  get url(): string {
    return this.credentials.url;
  }

  /** The response of a request that succeeded (2xx or one of `expect`), its body already read. */
  async request(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<{ status: number; headers: Headers; bytes: Uint8Array }> {
    const target = `${this.credentials.url}${path}`;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { authorization: `Bearer ${this.credentials.apiKey}` };
      if (options.contentType) headers["content-type"] = options.contentType;
      if (options.accept) headers.accept = options.accept;
      const signal = AbortSignal.timeout(this.options.timeoutMs);
      let response: Response;
      try {
        response = await fetch(target, {
          method,
          headers,
          body: options.body as BodyInit | undefined,
          signal,
          redirect: "error",
        });
      } catch (error) {
        throw new CliError(
          `cannot reach the platform at ${this.credentials.url} (${networkCause(error)})`,
          "check the URL (`kgen login --url`, KGEN_URL) and that the platform is running",
          EXIT.unavailable,
        );
      }
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch (error) {
        throw new CliError(
          `the answer to ${method} ${path} was cut off (${networkCause(error)})`,
          "run the command again; nothing was written",
          EXIT.unavailable,
        );
      }
      if ((response.status >= 200 && response.status < 300) || options.expect?.includes(response.status)) {
        return { status: response.status, headers: response.headers, bytes };
      }
      if (response.status === 429) {
        const wait = retryAfterSeconds(response.headers.get("retry-after")) ?? 2 ** attempt;
        if (attempt < this.options.maxRetries && wait <= this.options.maxRetryAfterSeconds) {
          await this.options.sleep(wait * 1000);
          continue;
        }
        throw new CliError(
          `the platform is rate-limiting ${method} ${path} (429 after ${attempt + 1} attempt${attempt === 0 ? "" : "s"}${wait > 0 ? `, retry after ${wait}s` : ""})`,
          "wait a moment and run the command again",
          EXIT.unavailable,
        );
      }
      throw this.failure(method, path, response.status, new TextDecoder().decode(bytes));
    }
  }

  /**
   * Opens a Server-Sent Events stream and returns its body, or null when the platform does not serve
   * one here (an older platform, too many open streams, a refusal): the caller then polls instead.
   * The stream has no deadline; `signal` closes it.
   */
  async openEventStream(path: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array> | null> {
    const opening = new AbortController();
    const abort = () => opening.abort();
    signal.addEventListener("abort", abort, { once: true });
    // The headers must come promptly; the body may then stay open as long as the caller wants.
    const headerDeadline = setTimeout(abort, Math.min(this.options.timeoutMs, STREAM_HEADERS_TIMEOUT_MS));
    try {
      const response = await fetch(`${this.credentials.url}${path}`, {
        headers: { authorization: `Bearer ${this.credentials.apiKey}`, accept: "text/event-stream" },
        signal: opening.signal,
        redirect: "error",
      });
      if (response.status === 200 && response.body !== null) return response.body;
      await response.body?.cancel();
      return null;
    } catch {
      return null;
    } finally {
      clearTimeout(headerDeadline);
    }
  }

  /** A JSON request and its JSON answer. */
  async json<T>(
    method: string,
    path: string,
    body?: unknown,
    options: Omit<RequestOptions, "body"> = {},
  ): Promise<{ status: number; value: T; headers: Headers }> {
    const response = await this.request(method, path, {
      ...options,
      accept: "application/json",
      ...(body === undefined ? {} : { body: JSON.stringify(body), contentType: "application/json" }),
    });
    const text = new TextDecoder().decode(response.bytes);
    try {
      return {
        status: response.status,
        value: (text === "" ? null : JSON.parse(text)) as T,
        headers: response.headers,
      };
    } catch {
      throw new CliError(
        `the platform answered ${method} ${path} with something that is not JSON`,
        "check that the URL is a KGEN platform",
        EXIT.unavailable,
      );
    }
  }

  private failure(method: string, path: string, status: number, text: string): CliError {
    const problem = problemOf(text);
    const said = problem.detail ? `: ${problem.detail}` : "";
    if (status === 401) {
      return new CliError(
        `the platform refused the API key (401${said})`,
        "run `kgen login --url <platform> --key <api key>` with a valid key",
        EXIT.auth,
      );
    }
    if (status === 403) {
      return new CliError(
        `the API key may not ${method} ${path} (403${said})`,
        "use a key with the editor role or above",
        EXIT.auth,
      );
    }
    if (status >= 500) {
      return new CliError(
        `the platform failed on ${method} ${path} (${status}${said})`,
        "try again later; quote the request id of the platform's log when reporting it",
        EXIT.unavailable,
      );
    }
    return new CliError(
      `the platform refused ${method} ${path} (${status}${problem.type ? ` ${problem.type}` : ""}${said})`,
      "see the message; docs/cli.md lists what each command sends",
    );
  }
}
