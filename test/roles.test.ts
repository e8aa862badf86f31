import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import worker from "../src/index";
import { configuredKeys } from "../src/middleware/auth";
import { BASE, call, registerJob, uniqueName } from "./helpers/api";
import { freezeClock } from "./helpers/clock";
import { auditRows, dbSnapshot, jobRow } from "./helpers/db-snapshot";
import { settled } from "./helpers/scheduler";

/**
 * Issue 14, "Identities and roles". vitest.config.ts configures
 * SCHEDULER_API_KEYS = reader:read, ops:operator (two tokens, mid-rotation), boss:admin,
 * beside SCHEDULER_API_TOKEN (the unnamed admin, "api").
 */

beforeEach(() => freezeClock());

const KEYS = { read: "test-key-read", operator: "test-key-ops", admin: "test-key-admin" } as const;
type Who = keyof typeof KEYS | "none";

interface Case {
  route: string;
  method: string;
  path: (job: string) => string;
  body?: (job: string) => unknown;
  /** The status each caller gets; "none" sends no token. */
  expect: Record<Who, number>;
  /** The role named in a 403. */
  needs?: "read" | "operator" | "admin";
}

const fresh = (job: string) => ({ job_name: `${job}-new`, cron_expression: "0 3 * * *", handler: "testNoop" });

// Every route of the API today, by role. Reads are public (REQUIRE_AUTH_FOR_READS false).
const TABLE: Case[] = [
  { route: "list jobs", method: "GET", path: () => "/jobs", expect: { none: 200, read: 200, operator: 200, admin: 200 } },
  { route: "get a job", method: "GET", path: (j) => `/jobs/${j}`, expect: { none: 200, read: 200, operator: 200, admin: 200 } },
  { route: "list runs", method: "GET", path: (j) => `/jobs/${j}/runs`, expect: { none: 200, read: 200, operator: 200, admin: 200 } },
  { route: "last result", method: "GET", path: (j) => `/jobs/${j}/last-result`, expect: { none: 404, read: 404, operator: 404, admin: 404 } },
  { route: "health", method: "GET", path: () => "/health", expect: { none: 200, read: 200, operator: 200, admin: 200 } },
  { route: "openapi", method: "GET", path: () => "/openapi.json", expect: { none: 200, read: 200, operator: 200, admin: 200 } },
  { route: "audit", method: "GET", path: (j) => `/audit?job_name=${j}`, expect: { none: 401, read: 200, operator: 200, admin: 200 } },
  { route: "trigger", method: "POST", path: (j) => `/jobs/${j}/trigger`, body: () => ({}), expect: { none: 401, read: 403, operator: 202, admin: 202 }, needs: "operator" },
  {
    route: "dry run",
    method: "POST",
    path: (j) => `/jobs/${j}/trigger`,
    body: () => ({ dry_run: true }),
    expect: { none: 401, read: 403, operator: 202, admin: 202 },
    needs: "operator",
  },
  { route: "pause", method: "PATCH", path: (j) => `/jobs/${j}`, body: () => ({ is_active: false }), expect: { none: 401, read: 403, operator: 200, admin: 200 }, needs: "operator" },
  {
    route: "resume",
    method: "PATCH",
    path: (j) => `/jobs/${j}`,
    body: () => ({ is_active: true }),
    expect: { none: 401, read: 403, operator: 200, admin: 200 },
    needs: "operator",
  },
  { route: "update", method: "PATCH", path: (j) => `/jobs/${j}`, body: () => ({ max_retries: 2 }), expect: { none: 401, read: 403, operator: 403, admin: 200 }, needs: "admin" },
  {
    route: "pause and update at once",
    method: "PATCH",
    path: (j) => `/jobs/${j}`,
    body: () => ({ is_active: false, cron_expression: "5 3 * * *" }),
    expect: { none: 401, read: 403, operator: 403, admin: 200 },
    needs: "admin",
  },
  { route: "register", method: "POST", path: () => "/jobs", body: fresh, expect: { none: 401, read: 403, operator: 403, admin: 201 }, needs: "admin" },
  { route: "delete", method: "DELETE", path: (j) => `/jobs/${j}`, expect: { none: 401, read: 403, operator: 403, admin: 200 }, needs: "admin" },
];

describe("route × role", () => {
  for (const row of TABLE) {
    it(row.route, async () => {
      for (const who of ["none", "read", "operator", "admin"] as const) {
        const job = uniqueName("role");
        expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
        const before = await dbSnapshot();
        const res = await call(row.method, row.path(job), { token: who === "none" ? null : KEYS[who], body: row.body?.(job) });
        const what = `${row.route} as ${who}`;
        expect(res.status, what).toBe(row.expect[who]);
        if (res.status === 403) {
          expect(res.json.error.code, what).toBe("forbidden");
          expect(res.json.error.message, what).toContain(`needs the "${row.needs}" role`);
          expect(res.json.error.details, what).toEqual({ required_role: row.needs, role: who });
        }
        if (res.status >= 400 && row.method !== "GET") expect(await dbSnapshot(), what).toEqual(before);
        if (res.status === 202) await settled(job);
      }
    });
  }

  it("the unnamed SCHEDULER_API_TOKEN is still an admin", async () => {
    const job = uniqueName("role-unnamed");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    expect((await call("PATCH", `/jobs/${job}`, { body: { max_retries: 1 }, token: "test-token" })).status).toBe(200);
    expect((await call("DELETE", `/jobs/${job}`, { token: "test-token-old" })).status).toBe(200);
  });

  it("an operator's PATCH with a body it cannot read as JSON gets the validator's 400, and nothing changes", async () => {
    const job = uniqueName("role-badbody");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    const before = await dbSnapshot();
    const res = await call("PATCH", `/jobs/${job}`, { token: KEYS.operator, rawBody: "{not json", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(await dbSnapshot()).toEqual(before);
  });
});

describe("the audit names the key", () => {
  it("records each key's name as the actor, and the default triggered_by is that name", async () => {
    const job = uniqueName("named");
    const register = await call("POST", "/jobs", { token: KEYS.admin, body: { job_name: job, cron_expression: "0 3 * * *", handler: "testNoop" } });
    expect(register.status).toBe(201);
    expect((await call("PATCH", `/jobs/${job}`, { token: KEYS.operator, body: { is_active: false } })).status).toBe(200);
    expect((await call("PATCH", `/jobs/${job}`, { token: "test-key-ops-new", body: { is_active: true } })).status).toBe(200);
    expect((await call("POST", `/jobs/${job}/trigger`, { token: KEYS.operator, body: {} })).status).toBe(202);
    await settled(job);
    const rows = await auditRows(job);
    expect(rows.map((r) => [r.action, r.actor])).toEqual([
      ["register", "boss"],
      ["pause", "ops"],
      // Rotation per key: the old and the new token of "ops" are one identity.
      ["resume", "ops"],
      ["trigger", "ops"],
    ]);
    const runs = await call("GET", `/jobs/${job}/runs`, { token: null });
    expect(runs.json.data[0].triggered_by).toBe("ops");
  });
});

async function callWith(overrides: Partial<Env>, method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: response.status, json: (await response.json()) as any };
}

describe("rotation per key", () => {
  it("removing one of a key's tokens refuses that token only", async () => {
    const job = uniqueName("rotated");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    const after = { SCHEDULER_API_KEYS: "ops:operator:test-key-ops-new,boss:admin:test-key-admin" };
    expect((await callWith(after, "PATCH", `/jobs/${job}`, "test-key-ops", { is_active: false })).status).toBe(401);
    expect((await callWith(after, "PATCH", `/jobs/${job}`, "test-key-ops-new", { is_active: false })).status).toBe(200);
    expect((await callWith(after, "PATCH", `/jobs/${job}`, KEYS.read, { is_active: true })).status).toBe(401);
  });

  it("works with named keys only (no SCHEDULER_API_TOKEN)", async () => {
    const only = { SCHEDULER_API_TOKEN: undefined, SCHEDULER_API_KEYS: "boss:admin:only-admin-key" };
    const name = uniqueName("keys-only");
    const created = await callWith(only, "POST", "/jobs", "only-admin-key", { job_name: name, cron_expression: "0 3 * * *", handler: "testNoop" });
    expect(created.status).toBe(201);
    expect((await jobRow(name))?.job_name).toBe(name);
  });
});

describe("SCHEDULER_API_KEYS parsing", () => {
  it("reads name:role:token entries separated by commas or newlines, trimmed", () => {
    const { keys, problems } = configuredKeys({ SCHEDULER_API_KEYS: " a:read:t1 ,\n b:operator:t2\n\nc:admin:t3,", SCHEDULER_API_TOKEN: "t4" });
    expect(problems).toEqual([]);
    expect(keys).toEqual([
      { name: "a", role: "read", token: "t1" },
      { name: "b", role: "operator", token: "t2" },
      { name: "c", role: "admin", token: "t3" },
      { name: null, role: "admin", token: "t4" },
    ]);
  });

  it("refuses what it cannot read, never guessing, and names entries without their tokens", () => {
    const { keys, problems } = configuredKeys({
      SCHEDULER_API_KEYS: [
        "a:read", // no token
        "b:root:tb", // unknown role
        "api:admin:tc", // reserved name
        "d:read:has space",
        "e:read:te1,e:admin:te2", // one name, two roles
        "f:read:same,g:admin:same", // one token, two names
        "ok:operator:good",
      ].join(","),
    });
    expect(keys).toEqual([{ name: "ok", role: "operator", token: "good" }]);
    expect(problems).toHaveLength(6);
    for (const secret of ["tb", "tc", "te1", "te2", "same", "has space"]) {
      for (const p of problems) expect(p).not.toContain(`:${secret}`);
    }
    expect(problems.join("\n")).toMatch(/entry 1 is not name:role:token/);
    expect(problems.join("\n")).toMatch(/"e" is given more than one role/);
  });

  it("/health names a bad SCHEDULER_API_KEYS", async () => {
    const res = await callWith({ SCHEDULER_API_KEYS: "x:superuser:tok" }, "GET", "/health");
    expect(res.status).toBe(503);
    expect(res.json.settings).toEqual([{ setting: "SCHEDULER_API_KEYS", message: expect.stringContaining("role must be one of") }]);
    expect(JSON.stringify(res.json)).not.toContain("tok\"");
  });
});
