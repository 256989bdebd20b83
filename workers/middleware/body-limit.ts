import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../context";
import { HttpError } from "../problems/http-error";

const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** hono's bodyLimit answering 413 `payload-too-large` with `detail`, with or without a Content-Length. */
export function limitBody(maxSize: number, detail: string): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new HttpError(413, "payload-too-large", "Payload Too Large", detail);
    },
  });
}

/** 413 for bodies over MAX_BODY_BYTES, whether or not the client declared a Content-Length. */
export const maxBodySize: MiddlewareHandler<AppEnv> = (c, next) => {
  const configured = Number(c.env.MAX_BODY_BYTES);
  const maxSize = Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_MAX_BODY_BYTES;
  return limitBody(maxSize, `Request bodies are limited to ${maxSize} bytes.`)(c, next);
};

/** Largest JSON request body: JSON bodies are small documents, raw uploads have routes of their own. */
export const JSON_BODY_MAX_BYTES = 1024 * 1024;

/** 413 for a JSON body over JSON_BODY_MAX_BYTES, before anything reads it as JSON. */
export const jsonBodyLimit: MiddlewareHandler<AppEnv> = (c, next) =>
  limitBody(JSON_BODY_MAX_BYTES, `JSON bodies are limited to ${JSON_BODY_MAX_BYTES} bytes.`)(c, next);
