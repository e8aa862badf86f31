import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import type { AppEnv } from "../app-env";
import { ApiError } from "../lib/errors";

/** The configured tokens: SCHEDULER_API_TOKEN, comma-separated so a token can be rotated. */
export function configuredTokens(env: AppEnv["Bindings"]): string[] {
  return (env.SCHEDULER_API_TOKEN ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** A label that identifies a token in the audit trail without revealing it. */
async function fingerprint(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return `token:${[...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const unauthorized = (message: string) => (c: Context) =>
  c.json(new ApiError(401, "unauthorized", message).body(c.get("requestId")), 401);

/**
 * Bearer auth through Hono's middleware (constant-time comparison). Fails
 * closed: with no token configured, every request that needs one is refused.
 */
export function requireToken(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const tokens = configuredTokens(c.env);
    if (tokens.length === 0) {
      throw new ApiError(
        403,
        "auth_not_configured",
        "This server has no API token configured, so changes are refused. Set the SCHEDULER_API_TOKEN secret " +
          "(`wrangler secret put SCHEDULER_API_TOKEN`; locally in .dev.vars) and send it as `Authorization: Bearer <token>`.",
      );
    }
    const check: MiddlewareHandler<AppEnv> = bearerAuth({
      token: tokens,
      noAuthenticationHeader: { message: unauthorized("Missing Authorization header: send `Authorization: Bearer <token>`.") },
      // Another scheme (Basic ...) or a malformed value: still a 401 with a Bearer challenge.
      invalidAuthenticationHeader: {
        message: (c: Context) => unauthorized("The Authorization header must be `Bearer <token>`.")(c),
        wwwAuthenticateHeader: 'Bearer error="invalid_request"',
      },
      invalidToken: { message: unauthorized("The bearer token is not valid.") },
    });
    await check(c, async () => {
      const token = c.req.header("authorization")!.replace(/^bearer\s+/i, "");
      c.set("actor", {
        label: await fingerprint(token),
        requestId: c.get("requestId"),
        sourceIp: c.req.header("cf-connecting-ip") ?? undefined,
        userAgent: c.req.header("user-agent")?.slice(0, 256),
      });
      await next();
    });
  };
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Changes always need a token; reads only when REQUIRE_AUTH_FOR_READS is "true". */
export function requireTokenForChanges(): MiddlewareHandler<AppEnv> {
  const guard = requireToken();
  return async (c, next) => {
    const isRead = READ_METHODS.has(c.req.method);
    if (isRead && c.env.REQUIRE_AUTH_FOR_READS !== "true") return next();
    return guard(c, next);
  };
}
