import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import type { AppEnv } from "../app-env";
import { ApiError } from "../lib/errors";

const REALM = "nightly-scheduler";

/** The configured tokens: SCHEDULER_API_TOKEN, comma-separated so a token can be rotated. */
export function configuredTokens(env: AppEnv["Bindings"]): string[] {
  return (env.SCHEDULER_API_TOKEN ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** A label that identifies a token in the audit trail without revealing it. */
export async function fingerprint(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return `token:${[...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Every refusal is a 401 in the one error shape, with a Bearer challenge.
 * RFC 6750 §3.1: no error code when the client sent no bearer credentials at
 * all (no header, or another scheme such as Basic); `invalid_token` when it did.
 */
const refuse = (message: string, error?: "invalid_token" | "invalid_request") => (): never => {
  const challenge = `Bearer realm="${REALM}"${error ? `, error="${error}"` : ""}`;
  throw new ApiError(401, "unauthorized", message, undefined, { "WWW-Authenticate": challenge });
};

/** The header is there but is not `Bearer <token>`: another scheme, or a malformed token. */
function invalidHeader(c: Context): never {
  const value = c.req.header("authorization") ?? "";
  // The scheme is case-insensitive (RFC 7235 §2.1), as hono's bearerAuth also treats it.
  if (!/^bearer(\s|$)/i.test(value)) {
    return refuse("The Authorization header uses another scheme; send `Authorization: Bearer <token>`.")();
  }
  return refuse("The bearer token is malformed; send `Authorization: Bearer <token>`.", "invalid_request")();
}

/**
 * Bearer auth through Hono's middleware (it compares in constant time). Fails
 * closed: with no token configured, every request that needs one is refused.
 */
export function requireToken(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const tokens = configuredTokens(c.env);
    if (tokens.length === 0) {
      throw new ApiError(
        403,
        "auth_not_configured",
        "This server has no API token configured, so requests that need one are refused. Set the SCHEDULER_API_TOKEN secret " +
          "(`wrangler secret put SCHEDULER_API_TOKEN`; locally in .dev.vars, see .dev.vars.example) and send it as `Authorization: Bearer <token>`.",
      );
    }
    const check: MiddlewareHandler<AppEnv> = bearerAuth({
      token: tokens,
      realm: REALM,
      noAuthenticationHeader: { message: refuse("Missing Authorization header: send `Authorization: Bearer <token>`.") },
      invalidAuthenticationHeader: { message: invalidHeader },
      invalidToken: { message: refuse("The bearer token is not valid.", "invalid_token") },
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
