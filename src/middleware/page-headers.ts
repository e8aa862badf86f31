import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../app-env";
import { ApiError } from "../lib/errors";
import { corsOrigins } from "../lib/settings";

/**
 * The Content-Security-Policy of the HTML pages (the dashboard and /docs): nothing
 * from another origin, no inline script. Their scripts and styles are files on this
 * origin (the dashboard's from the Worker, Swagger UI's from Static Assets); style
 * attributes (bar colours, Swagger UI's layout) are allowed, they cannot run code.
 * The dashboard keeps the operator's token in sessionStorage, so this is what stops
 * a script from elsewhere reading it.
 */
export const PAGE_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  styleSrcAttr: ["'unsafe-inline'"],
  imgSrc: ["'self'", "data:"],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

// The JSON API: nothing in it is meant to render or run.
const API_CSP = { defaultSrc: ["'none'"], frameAncestors: ["'none'"] };

/** Security headers on every response; the CSP depends on whether it is a page or the API. */
export function securityHeaders(apiBase: string): MiddlewareHandler<AppEnv> {
  const forPages = secureHeaders({ contentSecurityPolicy: PAGE_CSP });
  const forApi = secureHeaders({ contentSecurityPolicy: API_CSP });
  return (c, next) => (c.req.path.startsWith(`${apiBase}/`) ? forApi(c, next) : forPages(c, next));
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const requestedMethod = (c: Context) =>
  c.req.method === "OPTIONS" ? (c.req.header("access-control-request-method") ?? "GET").toUpperCase() : c.req.method;

/**
 * CORS from the CORS_ORIGINS setting. Reads may be made from any site (they are
 * public, or need a bearer token a site cannot take from another); a change from
 * another site's page needs its origin listed. Unlisted, the preflight gets no
 * Allow-Origin, so the browser never sends it, and a change that arrives anyway with
 * a foreign Origin header is refused with 403 before it is authenticated.
 */
export function apiCors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const allowed = corsOrigins(c.env);
    const origin = c.req.header("origin");
    const sameOrigin = origin !== undefined && origin === new URL(c.req.url).origin;
    if (origin !== undefined && !sameOrigin && !SAFE_METHODS.has(c.req.method) && !allowed.includes(origin)) {
      throw new ApiError(403, "origin_not_allowed", "Changes from another site's page are refused; its origin is not listed in CORS_ORIGINS.", {
        origin,
      });
    }
    const handler = cors({
      origin: (o) => (allowed.includes(o) ? o : SAFE_METHODS.has(requestedMethod(c)) ? "*" : null),
      allowHeaders: ["Authorization", "Content-Type", "X-Request-Id"],
      exposeHeaders: ["X-Request-Id", "Retry-After"],
      maxAge: 600,
    });
    return handler(c, next);
  };
}
