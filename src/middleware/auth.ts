import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { timingSafeEqual } from "hono/utils/buffer";
import type { AppEnv } from "../app-env";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { logEvent } from "../lib/log";
import { readsLocked } from "../lib/settings";

const REALM = "nightly-scheduler";

/** What a key may do; each role may also do everything the roles before it may. */
export const ROLES = ["read", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];
const RANK: Record<Role, number> = { read: 0, operator: 1, admin: 2 };

/** A configured key. `name` null is SCHEDULER_API_TOKEN, the unnamed admin. */
export interface ApiKey {
  name: string | null;
  role: Role;
  token: string;
}

/** The label the unnamed token (SCHEDULER_API_TOKEN) gets in the audit and as default triggered_by. */
export const UNNAMED_KEY_LABEL = "api";
// Names that already mean something in the audit or in triggered_by.
const RESERVED_NAMES = new Set([UNNAMED_KEY_LABEL, "scheduler", "anonymous", "supervisor", "system"]);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// The characters Hono's bearerAuth accepts in a token (RFC 6750 b64token); no ":" so the entry splits cleanly.
const TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * The configured keys: SCHEDULER_API_KEYS entries `name:role:token` (separated by
 * commas or newlines) and SCHEDULER_API_TOKEN (comma-separated, each an unnamed admin).
 *
 * Rotation: a name may appear more than once with different tokens (the old and the
 * new), and must then have the same role each time; it is one identity in the audit.
 * An entry that cannot be read, a name given two roles, or a token given to two
 * entries is refused (all entries involved), never guessed at; `problems` names them
 * by position and name, never by token, and /health reports them.
 */
export function configuredKeys(env: Pick<Env, "SCHEDULER_API_KEYS" | "SCHEDULER_API_TOKEN">): { keys: ApiKey[]; problems: string[] } {
  const problems: string[] = [];
  const keys: ApiKey[] = [];
  const entries = (env.SCHEDULER_API_KEYS ?? "").split(/[,\n]/).map((e) => e.trim());
  let position = 0;
  for (const entry of entries) {
    if (entry.length === 0) continue;
    position += 1;
    const parts = entry.split(":");
    const [name, role, token] = parts.map((p) => p.trim());
    if (parts.length !== 3 || !name || !role || !token) {
      problems.push(`entry ${position} is not name:role:token; ignored`);
    } else if (!NAME.test(name) || RESERVED_NAMES.has(name.toLowerCase())) {
      problems.push(`entry ${position}: the name must be 1-64 of A-Z a-z 0-9 . _ - and not ${[...RESERVED_NAMES].join("/")}; ignored`);
    } else if (!(ROLES as readonly string[]).includes(role)) {
      problems.push(`entry ${position} ("${name}"): the role must be one of ${ROLES.join(", ")}; ignored`);
    } else if (!TOKEN.test(token)) {
      problems.push(`entry ${position} ("${name}"): the token may hold only A-Z a-z 0-9 . _ ~ + / - (then =); ignored`);
    } else {
      keys.push({ name, role: role as Role, token });
    }
  }
  for (const token of (env.SCHEDULER_API_TOKEN ?? "").split(",").map((t) => t.trim())) {
    if (token.length > 0) keys.push({ name: null, role: "admin", token });
  }
  const roleOf = new Map<string, Set<Role>>();
  for (const key of keys) if (key.name !== null) roleOf.set(key.name, (roleOf.get(key.name) ?? new Set()).add(key.role));
  const conflicted = new Set([...roleOf].filter(([, roles]) => roles.size > 1).map(([name]) => name));
  for (const name of conflicted) problems.push(`"${name}" is given more than one role; all its entries ignored`);
  const seen = new Map<string, number>();
  for (const key of keys) seen.set(key.token, (seen.get(key.token) ?? 0) + 1);
  const shared = keys.filter((k) => (seen.get(k.token) ?? 0) > 1);
  if (shared.length > 0) {
    const who = [...new Set(shared.map((k) => k.name ?? "SCHEDULER_API_TOKEN"))].join(", ");
    problems.push(`one token is configured more than once (${who}); those entries ignored`);
  }
  return { keys: keys.filter((k) => !(k.name !== null && conflicted.has(k.name)) && (seen.get(k.token) ?? 0) === 1), problems };
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

// ---- Failed-authentication limit -------------------------------------------------

/** The AUTH_FAILURES binding's period (wrangler.toml [[ratelimits]]); also the Retry-After. */
export const FAILURE_WINDOW_SECONDS = 60;
/**
 * Clients the limiter has refused, until when (ms). The binding cannot be asked
 * without counting, so once it trips, this isolate refuses that client's every
 * credential (right or wrong) until the window is over: otherwise a guessing loop
 * could still tell a right guess (200) from a wrong one (429). Another isolate learns
 * it at that client's next failure there, since the binding's count is shared.
 */
const blockedUntil = new Map<string, number>();
const BLOCKED_REMEMBERED = 10_000;

/**
 * Cloudflare sets CF-Connecting-IP on every request that reaches the Worker; one
 * without it did not come through the edge (the test runner calling the Worker in
 * process), and has no client to count against.
 */
const clientOf = (c: Context<AppEnv>): string | null => c.req.header("cf-connecting-ip") ?? null;

function tooMany(): never {
  throw new ApiError(
    429,
    "too_many_failed_attempts",
    `Too many failed authentications from this address; try again in ${FAILURE_WINDOW_SECONDS} s.`,
    undefined,
    { "Retry-After": String(FAILURE_WINDOW_SECONDS) },
  );
}

function refuseIfBlocked(c: Context<AppEnv>): void {
  const client = clientOf(c);
  if (client === null) return;
  const until = blockedUntil.get(client);
  if (until === undefined) return;
  if (until > Date.now()) tooMany();
  blockedUntil.delete(client);
}

/** Counts one failed authentication of this client; refuses with 429 once the binding says it is over the limit. */
async function countFailure(c: Context<AppEnv>): Promise<void> {
  const client = clientOf(c);
  const limiter = c.env.AUTH_FAILURES;
  if (client === null || !limiter) return;
  const { success } = await limiter.limit({ key: `auth-failure:${client}` });
  if (success) return;
  if (blockedUntil.size >= BLOCKED_REMEMBERED) blockedUntil.clear();
  blockedUntil.set(client, Date.now() + FAILURE_WINDOW_SECONDS * 1000);
  logEvent("auth.rate_limited", { source_ip: client, path: c.req.path }, "warn");
  tooMany();
}

// ---- Authentication and roles ----------------------------------------------------

/** Checks the bearer token against every configured key; sets the actor to the key's identity. */
async function authenticate(c: Context<AppEnv>): Promise<ApiKey> {
  const existing = c.get("apiKey");
  if (existing) return existing;
  const { keys } = configuredKeys(c.env);
  if (keys.length === 0) {
    throw new ApiError(
      403,
      "auth_not_configured",
      "This server has no API key configured, so requests that need one are refused. Set the SCHEDULER_API_TOKEN secret " +
        "(`wrangler secret put SCHEDULER_API_TOKEN`; locally in .dev.vars, see .dev.vars.example), or named keys in SCHEDULER_API_KEYS, " +
        "and send it as `Authorization: Bearer <token>`.",
    );
  }
  refuseIfBlocked(c);
  let matched: ApiKey | null = null;
  const check: MiddlewareHandler<AppEnv> = bearerAuth({
    realm: REALM,
    verifyToken: async (token: string) => (matched = await matchKey(keys, token)) !== null,
    noAuthenticationHeader: { message: refuse("Missing Authorization header: send `Authorization: Bearer <token>`.") },
    invalidAuthenticationHeader: { message: invalidHeader },
    invalidToken: { message: refuse("The bearer token is not valid.", "invalid_token") },
  });
  try {
    await check(c, async () => {});
  } catch (error) {
    // A missing header is not a guess; any credential that was sent and refused is.
    if (c.req.header("authorization") !== undefined) await countFailure(c);
    throw error;
  }
  const key = matched as ApiKey | null;
  if (key === null) throw new Error("bearerAuth passed without a matching key");
  setIdentity(c, key);
  return key;
}

/** The key whose token this is: every key compared in constant time (Hono's), no early exit, so timing does not tell which. */
async function matchKey(keys: ApiKey[], token: string): Promise<ApiKey | null> {
  let matched: ApiKey | null = null;
  for (const key of keys) if ((await timingSafeEqual(key.token, token)) && matched === null) matched = key;
  return matched;
}

function setIdentity(c: Context<AppEnv>, key: ApiKey): void {
  c.set("apiKey", key);
  c.set("actor", { ...c.get("actor"), label: key.name ?? UNNAMED_KEY_LABEL, role: key.role });
}

/** Decides the role a request needs from the request itself (e.g. from its body). */
export type RoleRule = (c: Context<AppEnv>) => Role | Promise<Role>;

/**
 * The per-route guard: authenticates (401/403 as above, 429 when over the failure
 * limit) and requires at least `need`; a lower role gets 403 naming the role needed.
 * Register it before the generic guard (see app.ts), one line per route:
 * `app.on("GET", `${API_BASE}/reports`, requireRole("read"))`.
 */
export function requireRole(need: Role | RoleRule): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.get("roleChecked")) return next();
    const key = await authenticate(c);
    const required = typeof need === "function" ? await need(c) : need;
    if (RANK[key.role] < RANK[required]) {
      const who = key.name === null ? "this key" : `the key "${key.name}"`;
      throw new ApiError(403, "forbidden", `This request needs the "${required}" role; ${who} has "${key.role}".`, {
        required_role: required,
        role: key.role,
      });
    }
    c.set("roleChecked", true);
    await next();
  };
}

/**
 * A token is optional here: if a valid one is sent, the request knows who asked
 * (token-only detail such as a run's `error_detail`); anything else is ignored,
 * as public reads always have, and is not counted as a failure.
 */
export function identifyIfPresent(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    if (header !== undefined && !c.get("apiKey")) {
      const token = /^bearer +(\S+)$/i.exec(header)?.[1];
      const matched = token === undefined ? null : await matchKey(configuredKeys(c.env).keys, token);
      if (matched !== null) setIdentity(c, matched);
    }
    await next();
  };
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The generic guard for the whole API, after the per-route ones: a change that no
 * route gave a role needs `admin` (a new route is admin-only until it says otherwise);
 * reads need `read` when REQUIRE_AUTH_FOR_READS locks them, and are public otherwise.
 */
export function requireRoleByDefault(): MiddlewareHandler<AppEnv> {
  const admin = requireRole("admin");
  const read = requireRole("read");
  const identify = identifyIfPresent();
  return async (c, next) => {
    if (c.get("roleChecked")) return next();
    if (!READ_METHODS.has(c.req.method)) return admin(c, next);
    if (readsLocked(c.env)) return read(c, next);
    return identify(c, next);
  };
}

/** Whether the request was made with a valid key (any role): token-only fields may be shown. */
export const hasKey = (c: Context<AppEnv>): boolean => c.get("apiKey") !== undefined;
