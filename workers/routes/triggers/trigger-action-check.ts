import type { MiddlewareHandler } from "hono";
import { parseTriggerAction } from "../../../shared/contracts/triggers";
import type { AppEnv } from "../../context";
import { HttpError } from "../../problems/http-error";

/**
 * 422 `invalid-trigger-action` for an action object that is not a valid action, naming its fields as
 * the one shape it names (`syncGraph` or a generation) expects them. Runs after requireJsonBody; a
 * missing or non-object action and every other field are left to the route's schema (400).
 */
export const checkTriggerAction: MiddlewareHandler<AppEnv> = async (c, next) => {
  const body = await c.req.json().catch(() => undefined);
  const action = typeof body === "object" && body !== null ? (body as { action?: unknown }).action : undefined;
  if (typeof action === "object" && action !== null && !Array.isArray(action)) {
    const parsed = parseTriggerAction(action);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((issue) => ({
        field: ["action", ...issue.path.map(String)].join("."),
        message: issue.message,
      }));
      throw new HttpError(
        422,
        "invalid-trigger-action",
        "Invalid trigger action",
        `Invalid action: ${[...new Set(errors.map((error) => error.field))].join(", ")}.`,
        { extensions: { errors } },
      );
    }
  }
  await next();
};
