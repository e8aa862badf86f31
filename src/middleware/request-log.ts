import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { logEvent } from "../lib/log";

/** One structured line per request: method, path, status, duration and request id. */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = Date.now();
    await next();
    logEvent("http.request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Date.now() - started,
      request_id: c.get("requestId"),
      ...(c.var.actor?.clientRequestId ? { client_request_id: c.var.actor.clientRequestId } : {}),
    });
  };
}
