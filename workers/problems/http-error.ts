/** Base URI of every problem type this platform returns (RFC 9457 `type`). */
export const PROBLEM_BASE = "https://kgen.dev/problems/";

/**
 * A failure that maps to one RFC 9457 problem document. Throw it anywhere on the request
 * path; the app's single error handler turns it into `application/problem+json`.
 * `type` is a stable slug (e.g. `quota-exceeded`) resolved against PROBLEM_BASE.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    type: string,
    title: string,
    detail?: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? title);
    this.name = "HttpError";
    this.status = status;
    this.type = type;
    this.title = title;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

/** The problem `type` URI of a slug; a slug is never taken for a URI (`http-error` is a slug). */
export function problemTypeUri(slug: string): string {
  return slug.startsWith(PROBLEM_BASE) ? slug : `${PROBLEM_BASE}${slug}`;
}
