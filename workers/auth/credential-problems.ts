import { HttpError } from "../problems/http-error";

/** 401 `unauthorized` with the Bearer challenge. */
export const unauthorized = (detail: string) =>
  new HttpError(401, "unauthorized", "Unauthorized", detail, { headers: { "WWW-Authenticate": "Bearer" } });
