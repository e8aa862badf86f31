import type { Role } from "../middleware/auth";
import { ErrorSchema } from "../routes/schemas";

/**
 * What every operation of the document declares besides its own request and
 * success answer: who may call it (`security` and `x-required-role`) and the
 * errors the middleware in front of it can give, each in the one error shape.
 * test/openapi.test.ts holds every operation to this and checks the roles
 * against the middleware, so a route added later cannot skip it.
 */

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 429;

/**
 * Who may call an operation:
 * - "public": always, with no key (health);
 * - "public-read": anyone, unless REQUIRE_AUTH_FOR_READS locks reads, then a key with `read`;
 *   a valid key sent anyway is used (it shows token-only fields such as `error_detail`);
 * - a role: a key with at least that role (read < operator < admin).
 */
export type Access = "public" | "public-read" | Role;

const bearer = [{ bearerAuth: [] as string[] }];

const ACCESS: Record<Access, { security: Record<string, string[]>[]; role: "none" | Role; words: string }> = {
  public: { security: [], role: "none", words: "Public: no key, even when REQUIRE_AUTH_FOR_READS is set." },
  "public-read": {
    // Optional bearer: {} allows anonymous calls, the second entry a key.
    security: [{}, ...bearer],
    role: "read",
    words: 'Public unless the server sets REQUIRE_AUTH_FOR_READS to "true"; then a key with the `read` role or above. A valid key sent anyway shows token-only fields.',
  },
  read: { security: bearer, role: "read", words: "Needs a key with the `read` role or above, even when other reads are public." },
  operator: { security: bearer, role: "operator", words: "Needs a key with the `operator` role or above." },
  admin: { security: bearer, role: "admin", words: "Needs a key with the `admin` role." },
};

/**
 * `security`, `x-required-role` (the role a key must have when one is needed: read <
 * operator < admin, or "none") and a description saying so, for `createRoute({...})`.
 * `more` is the operation's own description, after the access sentence.
 */
export function access(who: Access, more?: string) {
  const { security, role, words } = ACCESS[who];
  return { security, "x-required-role": role, description: more ? `${words}\n\n${more}` : words };
}

const header = (description: string, example: string) => ({ schema: { type: "string" as const, example }, description });

/** The standard meaning of each error status here, and the headers it comes with. */
const STANDARD: Record<ErrorStatus, { description: string; headers?: Record<string, ReturnType<typeof header>> }> = {
  400: { description: "Invalid request: the message names every parameter or field at fault (details.issues)" },
  401: {
    description: "No valid key: none sent, another scheme, or a token that matches no key",
    headers: { "WWW-Authenticate": header("The Bearer challenge (RFC 6750)", 'Bearer realm="nightly-scheduler", error="invalid_token"') },
  },
  403: {
    description:
      "The key lacks the role this operation needs (details.required_role), the server has no key configured, or a change came from a page of an origin not listed in CORS_ORIGINS",
  },
  404: { description: "Not found" },
  409: { description: "Conflicts with the current state" },
  412: {
    description: "If-Match does not name the job's current version; nothing changed",
    headers: { ETag: header("The job's current version", '"4"') },
  },
  413: { description: "The body is larger than the limit (16 KiB; 1 MiB for platform imports); the message names it" },
  415: { description: "The body is not sent as Content-Type: application/json" },
  422: { description: "Well-formed but refused" },
  429: {
    description: "Too many failed authentications from this address; every key is refused until Retry-After has passed",
    headers: { "Retry-After": header("Seconds to wait", "60") },
  },
};

/** A status, or a status with what it means for this operation (`[404, "No such job"]`). */
type ErrorSpec = ErrorStatus | readonly [ErrorStatus, string];
type StatusOf<S> = S extends readonly [infer C, string] ? C : S;
/** The statuses the authentication in front of an operation can answer with (src/middleware/auth.ts). */
type AuthStatus<A extends Access> = A extends "public" ? never : 401 | 403 | 429;

type ErrorResponse = {
  description: string;
  headers?: Record<string, ReturnType<typeof header>>;
  content: { "application/json": { schema: typeof ErrorSchema } };
};

/**
 * The error responses of an operation: 401, 403 and 429 for any that can need a key
 * (a public read does when REQUIRE_AUTH_FOR_READS is set), plus the statuses given.
 * Typed per status, so Hono's client (hc<AppType>) knows every error a route answers.
 */
export function errors<const A extends Access, const S extends readonly ErrorSpec[]>(who: A, ...specs: S) {
  const out: Record<number, ErrorResponse> = {};
  const add = (status: ErrorStatus, meaning?: string) => {
    const { description, headers } = STANDARD[status];
    const when = who === "public-read" && (status === 401 || status === 403 || status === 429) ? " (only when REQUIRE_AUTH_FOR_READS is set)" : "";
    out[status] = {
      description: `${meaning ?? description}${when}`,
      ...(headers ? { headers } : {}),
      content: { "application/json": { schema: ErrorSchema } },
    };
  };
  for (const spec of specs) typeof spec === "number" ? add(spec) : add(spec[0], spec[1]);
  if (who !== "public") for (const status of [401, 403, 429] as const) add(status);
  return out as { [K in StatusOf<S[number]> | AuthStatus<A>]: ErrorResponse };
}

/** A JSON response of `schema`. */
export const json = <T>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });

/** The refusals any JSON body can get before the route sees it: bad JSON or fields, too large, not JSON. */
export const BODY_ERRORS = [400, 413, 415] as const;
