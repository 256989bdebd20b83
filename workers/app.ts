import { Hono } from "hono";
import { HttpError, problemTypeUri } from "../shared/errors/http-error";

export const app = new Hono<{ Bindings: Env }>().basePath("/v1");

app.get("/health", (c) => c.json({ status: "ok", version: "0.1.0" }));

app.onError((err, c) => {
  if (err instanceof HttpError) {
    return c.json(
      { type: problemTypeUri(err.type), title: err.title, status: err.status, detail: err.message },
      err.status as 400,
      { "content-type": "application/problem+json" },
    );
  }
  return c.json({ type: problemTypeUri("internal"), title: "Internal Server Error", status: 500 }, 500, {
    "content-type": "application/problem+json",
  });
});
