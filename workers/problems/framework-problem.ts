import type { HTTPException } from "hono/http-exception";
import { HttpError } from "./http-error";

/**
 * A problem for an HTTPException that Hono or its validators threw (malformed JSON or form bodies,
 * undeclared media types). Their messages can carry parser text, so the detail is our own wording.
 */
export function problemFromHttpException(error: HTTPException): HttpError {
  switch (error.status) {
    case 400:
      return new HttpError(400, "validation-error", "Invalid request", "The request body could not be read.", {
        extensions: { errors: [{ field: "body", message: "Malformed body for its content type" }] },
      });
    case 413:
      return new HttpError(413, "payload-too-large", "Payload Too Large", "The request body is too large.");
    case 415:
      return new HttpError(
        415,
        "unsupported-media-type",
        "Unsupported Media Type",
        "This route does not accept a body of that content type.",
      );
    default:
      return new HttpError(error.status, "http-error", "Request refused", `The request was refused (${error.status}).`);
  }
}
