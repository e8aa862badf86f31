import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";

/** What a client's own X-Request-Id may look like to be kept (as client_request_id): short, and no markup or spaces. */
export const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Every request gets a server-generated id (a UUID): in the X-Request-Id response
 * header, the logs, error bodies and the audit. A client's X-Request-Id is never
 * used as that id (the audit found it forgeable); a well-formed one is kept beside
 * it as `clientRequestId`, and a malformed one is dropped.
 */
export function serverRequestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const id = crypto.randomUUID();
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    await next();
  };
}

/** The client's X-Request-Id if it is well-formed, else undefined. */
export function clientRequestId(header: string | undefined): string | undefined {
  return header !== undefined && CLIENT_REQUEST_ID.test(header) ? header : undefined;
}
