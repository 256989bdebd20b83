// The pieces of `npm run bench -- load` that talk HTTP: one simulated client (its own address, paced under
// the per-client guard) and the per-route tally its requests are recorded in.
import { performance } from "node:perf_hooks";

/** The per-client guard lets 1,200 requests a minute through per address; a client stays under 1,000. */
const CLIENT_MIN_INTERVAL_MS = 60;
/** 5xx (and other 4xx) answers kept for the report, of each kind; the rest are only counted. */
const KEPT_ANSWERS = 5;

export type StatusClass = "2xx" | "429" | "4xx" | "5xx";

export interface RouteTally {
  latenciesMs: number[];
  statuses: Record<StatusClass, number>;
}

export function statusClass(status: number): StatusClass | undefined {
  if (status >= 200 && status < 300) return "2xx";
  if (status === 429) return "429";
  if (status >= 400 && status < 500) return "4xx";
  if (status >= 500) return "5xx";
  return undefined;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

/** Latencies and status classes per route, the first 5xx answers, and requests that got no answer at all. */
export class LoadTally {
  readonly routes = new Map<string, RouteTally>();
  readonly serverErrors: string[] = [];
  readonly otherClientErrors: string[] = [];
  unanswered = 0;

  record(route: string, status: number, ms: number, describe: () => string): void {
    const tally = this.routes.get(route) ?? {
      latenciesMs: [],
      statuses: { "2xx": 0, "429": 0, "4xx": 0, "5xx": 0 },
    };
    this.routes.set(route, tally);
    tally.latenciesMs.push(ms);
    const kind = statusClass(status);
    if (kind) tally.statuses[kind]++;
    if (kind === "5xx" && this.serverErrors.length < KEPT_ANSWERS) this.serverErrors.push(describe());
    if (kind === "4xx" && this.otherClientErrors.length < KEPT_ANSWERS) this.otherClientErrors.push(describe());
  }

  requests(): number {
    let total = 0;
    for (const tally of this.routes.values()) total += tally.latenciesMs.length;
    return total;
  }

  count(kind: StatusClass): number {
    let total = 0;
    for (const tally of this.routes.values()) total += tally.statuses[kind];
    return total;
  }

  /** p99 over the latencies of the given routes together. */
  p99Of(routes: readonly string[]): number {
    return percentile(
      routes.flatMap((route) => this.routes.get(route)?.latenciesMs ?? []),
      99,
    );
  }
}

export interface LoadRequest {
  route: string;
  method: string;
  path: string;
  token?: string;
  body?: string;
  contentType?: string;
}

export interface LoadAnswer {
  status: number;
  text: string;
  ms: number;
}

/**
 * One simulated client: every request carries its own `cf-connecting-ip` (the key of the per-client guard,
 * as the edge sets it for a real client) and starts at least CLIENT_MIN_INTERVAL_MS after its previous one.
 */
export class LoadClient {
  private nextStart = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly address: string,
    private readonly tally?: LoadTally,
  ) {}

  async send(request: LoadRequest): Promise<LoadAnswer> {
    const wait = this.nextStart - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.nextStart = performance.now() + CLIENT_MIN_INTERVAL_MS;
    const headers: Record<string, string> = { "cf-connecting-ip": this.address };
    if (request.token) headers.authorization = `Bearer ${request.token}`;
    if (request.body !== undefined) headers["content-type"] = request.contentType ?? "application/json";
    const started = performance.now();
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.baseUrl}${request.path}`, { method: request.method, headers, body: request.body });
      text = await res.text();
    } catch (error) {
      if (this.tally) this.tally.unanswered++;
      throw error;
    }
    const ms = performance.now() - started;
    this.tally?.record(request.route, res.status, ms, () => `${request.method} ${request.path}: ${res.status} ${text}`);
    return { status: res.status, text, ms };
  }

  /** A setup call: JSON back, anything but 2xx throws. */
  async call(method: string, path: string, token: string, body?: string, contentType?: string) {
    const answer = await this.send({ route: "setup", method, path, token, body, contentType });
    if (answer.status < 200 || answer.status >= 300)
      throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
    return JSON.parse(answer.text);
  }
}
