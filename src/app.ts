import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./app-env";
import { dashboardRoutes } from "./dashboard/routes";
import { createDb } from "./db/client";
import { ApiError } from "./lib/errors";
import { logEvent } from "./lib/log";
import { requireRoleByDefault } from "./middleware/auth";
import { apiCors, securityHeaders } from "./middleware/page-headers";
import { clientRequestId, serverRequestId } from "./middleware/request-id";
import { requestLog } from "./middleware/request-log";
import { registerRoles } from "./middleware/roles";
import { alertsRoutes } from "./routes/alerts";
import { auditRoutes } from "./routes/audit";
import { registerDocs } from "./routes/docs";
import { healthRoutes } from "./routes/health";
import { jobsRoutes } from "./routes/jobs";
import { metricsRoutes } from "./routes/metrics";
import { platformRoutes } from "./routes/platform";
import { notificationsRoutes } from "./routes/notifications";
import { reportsRoutes } from "./routes/reports";
import { validationHook } from "./routes/validation";
import { bootstrapOnce } from "./scheduler/bootstrap";

export const API_BASE = "/api/v1/scheduler";
export const MAX_BODY_BYTES = 16 * 1024;
/** The platform import's limit: a batch of 1,000 rows is about 100 KB (src/routes/platform.ts). */
export const MAX_IMPORT_BODY_BYTES = 1024 * 1024;
const PLATFORM_PREFIX = `${API_BASE}/platform/`;

/**
 * The contract prints every path with the base written twice
 * (/api/v1/scheduler/api/v1/scheduler/jobs). That form is served as an alias
 * of the canonical one by routing on the path with one base removed.
 */
function canonicalPath(request: Request): string {
  const path = new URL(request.url).pathname;
  return path.startsWith(`${API_BASE}${API_BASE}/`) ? path.slice(API_BASE.length) : path;
}

const anonymous = { label: "anonymous" };

/** The one app factory: middleware, routes, notFound and onError. */
export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook, getPath: canonicalPath });

  app.use("*", serverRequestId());
  app.use("*", requestLog());
  app.use("*", securityHeaders(API_BASE));
  app.use("*", async (c, next) => {
    c.set("db", createDb(c.env.DB));
    c.set("actor", {
      ...anonymous,
      requestId: c.get("requestId"),
      clientRequestId: clientRequestId(c.req.header("x-request-id")),
      sourceIp: c.req.header("cf-connecting-ip") ?? undefined,
      userAgent: c.req.header("user-agent")?.slice(0, 256),
    });
    await bootstrapOnce(c.env);
    await next();
  });
  // Registered before the auth middleware, so they stay public even when
  // REQUIRE_AUTH_FOR_READS is "true": uptime monitors and the API reference need no token.
  app.use(`${API_BASE}/*`, apiCors());
  const publicApi = app.route(API_BASE, healthRoutes);
  registerDocs(app);

  // Roles per route first (src/middleware/roles.ts), then the default: changes need admin,
  // reads are public unless REQUIRE_AUTH_FOR_READS locks them. The platform's data routes
  // change the built-in jobs' input wholesale: admin (they are all changes).
  registerRoles(app, API_BASE, MAX_BODY_BYTES);
  // Notifications and reports hold personal data (mentors' emails): roles for them are in src/middleware/roles.ts.
  app.use(`${API_BASE}/*`, requireRoleByDefault());
  const limit = (maxSize: number, words: string) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError(413, "payload_too_large", `The request body is larger than ${maxSize} bytes (${words}).`);
      },
    });
  const importLimit = limit(MAX_IMPORT_BODY_BYTES, "1 MiB, the limit for platform data imports");
  const defaultLimit = limit(MAX_BODY_BYTES, "16 KiB");
  app.use(`${API_BASE}/*`, (c, next) => (canonicalPath(c.req.raw).startsWith(PLATFORM_PREFIX) ? importLimit : defaultLimit)(c, next));

  // Chained, and returned below, so that the app's type carries every API route (AppType for hono/client).
  const routed = publicApi
    .route(API_BASE, jobsRoutes)
    .route(API_BASE, auditRoutes)
    .route(API_BASE, alertsRoutes)
    .route(API_BASE, metricsRoutes)
    .route(API_BASE, platformRoutes)
    .route(API_BASE, notificationsRoutes)
    .route(API_BASE, reportsRoutes);
  app.route("/", dashboardRoutes);

  app.notFound((c) => {
    throw new ApiError(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`);
  });

  app.onError((error, c) => {
    const requestId = c.get("requestId");
    if (error instanceof ApiError) {
      return c.json(error.body(), error.status, error.headers);
    }
    if (error instanceof HTTPException && error.status < 500) {
      // Hono's own middleware (validators, media-type gate): keep its 4xx status, use our shape.
      // A 5xx from anywhere falls through to the generic answer, so no internal message leaks.
      const response = error.getResponse();
      const code = error.status === 415 ? "unsupported_media_type" : error.status === 401 ? "unauthorized" : "bad_request";
      const message =
        error.status === 415
          ? "The body must be JSON, sent with Content-Type: application/json."
          : /malformed json/i.test(error.message)
            ? "The body is not valid JSON."
            : error.message || "Bad request.";
      const headers: Record<string, string> = {};
      const challenge = response.headers.get("WWW-Authenticate");
      if (challenge) headers["WWW-Authenticate"] = challenge;
      return c.json(new ApiError(error.status as 400, code, message).body(), error.status as 400, headers);
    }
    logEvent("http.error", { request_id: requestId, method: c.req.method, path: c.req.path, error: String(error), stack: (error as Error)?.stack }, "error");
    return c.json(new ApiError(500, "internal_error", "Something went wrong on our side; the request id identifies it in the logs.").body(requestId), 500);
  });

  return routed;
}
