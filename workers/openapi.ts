import { OpenAPIHono, type RouteConfig, type RouteHandler } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { problemSchema } from "../shared/contracts/problem";
import { assertJsonDepth } from "../shared/core/json-nesting";
import type { AppEnv } from "./context";
import { JSON_BODY_MAX_BYTES, limitBody } from "./middleware/body-limit";
import { HttpError } from "./problems/http-error";
import { validationError } from "./problems/problem-response";

/** A router whose zod validation failures become 400 problems naming each field. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const location = (result as { target?: string }).target ?? "request";
        throw validationError(result.error as never, location === "json" ? "body" : location);
      }
      void c;
    },
  });
}

const STATUS_TEXT: Record<number, string> = {
  400: "Invalid request",
  401: "Missing or invalid credential",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  413: "Body too large",
  415: "Unsupported media type",
  422: "Unprocessable content",
  429: "Rate limited",
};

/** OpenAPI responses for the problem statuses a route can return. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: STATUS_TEXT[status] ?? "Problem",
        content: { "application/problem+json": { schema: problemSchema } },
      },
    ]),
  );
}

/** The request's media type without parameters, lower-cased ("" when there is none). */
export function mediaTypeOf(c: Context<AppEnv>): string {
  return (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * 415 unless the body is JSON (zod-openapi would otherwise skip validating a mislabelled body); 413
 * over `maxBytes` before it is parsed; 422 nesting-too-deep when it nests deeper than
 * MAX_JSON_DEPTH, before any validator or handler recurses into it. The parsed body is cached by Hono
 * for them; a body that does not parse is left to them.
 */
export function requireJsonBodyWithin(maxBytes: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const type = mediaTypeOf(c);
    if (type !== "application/json" && !type.endsWith("+json")) {
      throw new HttpError(
        415,
        "unsupported-media-type",
        "Unsupported Media Type",
        "Send the body as application/json.",
      );
    }
    await limitBody(maxBytes, `JSON bodies are limited to ${maxBytes} bytes.`)(c, () => parseJsonWithinDepth(c));
    await next();
  };
}

/** What JSON routes accept: requireJsonBodyWithin(JSON_BODY_MAX_BYTES). */
export const requireJsonBody: MiddlewareHandler<AppEnv> = requireJsonBodyWithin(JSON_BODY_MAX_BYTES);

async function parseJsonWithinDepth(c: Context<AppEnv>): Promise<void> {
  const parsed = await c.req.json().then(
    (body: unknown) => ({ body }),
    (error: unknown) => {
      if (error instanceof SyntaxError) return null;
      throw error;
    },
  );
  if (parsed) assertJsonDepth(parsed.body, "JSON body");
}

export const bearerSecurity = [{ bearerAuth: [] }];

/** The typed handler of a route declared with `createRoute`: what `router.openapi(route, handler)` expects. */
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
