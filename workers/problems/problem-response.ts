import type { Context } from "hono";
import type { ZodError } from "zod";
import { HttpError, type ProblemDocument, problemTypeUri } from "./http-error";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export function problemResponse(c: Context, error: HttpError): Response {
  c.set("problemType", error.type);
  const body: ProblemDocument = {
    type: problemTypeUri(error.type),
    title: error.title,
    status: error.status,
    detail: error.message,
    instance: new URL(c.req.url).pathname,
    requestId: c.get("requestId"),
    ...error.extensions,
  };
  const headers = new Headers({ "content-type": PROBLEM_CONTENT_TYPE });
  for (const [name, value] of Object.entries(error.headers)) headers.set(name, value);
  return new Response(JSON.stringify(body), { status: error.status, headers });
}

export interface FieldError {
  field: string;
  message: string;
}

/** 400 naming each invalid field, from a zod error; `location` says where the fields were (body, query, path). */
export function validationError(error: ZodError, location: string): HttpError {
  const errors: FieldError[] = error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join(".") : location,
    message: issue.message,
  }));
  const fields = [...new Set(errors.map((e) => e.field))].join(", ");
  return new HttpError(400, "validation-error", "Invalid request", `Invalid ${location}: ${fields}.`, {
    extensions: { errors },
  });
}

export const notFound = (what: string): HttpError =>
  new HttpError(404, "not-found", "Not Found", `${what} does not exist.`);

/** 400 for one invalid field outside a zod-validated schema (path segments, raw bodies). */
export function invalidField(field: string, message: string, location: string): HttpError {
  return new HttpError(400, "validation-error", "Invalid request", `Invalid ${location}: ${field}.`, {
    extensions: { errors: [{ field, message }] },
  });
}
