import { beforeEach, describe, expect, it } from "vitest";
import { call, registerJob, uniqueName } from "./helpers/api";
import { freezeClock } from "./helpers/clock";
import { auditRows, dbSnapshot, jobRow, runRows } from "./helpers/db-snapshot";
import { settled } from "./helpers/scheduler";
import { callWith } from "./helpers/call-with";

/**
 * Issue 4, "Authentication". The test Worker is configured with
 * SCHEDULER_API_TOKEN = "test-token-old,test-token" (vitest.config.ts).
 *
 * Decisions:
 * - Another scheme (Basic, Token ...) is a 401 like a missing token, with a bare
 *   `Bearer realm=...` challenge (RFC 6750 §3.1: no error code when no bearer
 *   credentials were sent); hono's bearerAuth would answer 400.
 * - The scheme is case-insensitive (RFC 7235 §2.1): "bearer" and "BEARER" work.
 * - Public reads ignore the Authorization header entirely, even a wrong one.
 */

// No job comes due between two snapshots.
beforeEach(() => freezeClock());

const OLD = "test-token-old";
const NEW = "test-token";

interface BadCredential {
  name: string;
  /** The Authorization header to send; null sends none. */
  header: string | null;
  /** The WWW-Authenticate challenge expected. */
  challenge: RegExp;
  says: RegExp;
}

const BAD: BadCredential[] = [
  { name: "no token", header: null, challenge: /^Bearer realm="nightly-scheduler"$/, says: /Missing Authorization header/ },
  { name: "a wrong token", header: "Bearer not-the-token", challenge: /^Bearer .*error="invalid_token"/, says: /not valid/ },
  { name: "a prefix of the right token", header: "Bearer test-tok", challenge: /^Bearer .*error="invalid_token"/, says: /not valid/ },
  { name: "the right token with a suffix", header: "Bearer test-token-older", challenge: /^Bearer .*error="invalid_token"/, says: /not valid/ },
  { name: "both configured tokens as one (the raw secret)", header: `Bearer ${OLD},${NEW}`, challenge: /^Bearer .*error="invalid_request"/, says: /malformed/ },
  { name: "another scheme (Basic, token as password)", header: `Basic ${btoa(`admin:${NEW}`)}`, challenge: /^Bearer realm="nightly-scheduler"$/, says: /another scheme/ },
  { name: "another scheme (Basic, raw token)", header: `Basic ${NEW}`, challenge: /^Bearer realm="nightly-scheduler"$/, says: /another scheme/ },
  { name: "another scheme (Token)", header: `Token ${NEW}`, challenge: /^Bearer realm=/, says: /another scheme/ },
  { name: "the token without a scheme", header: NEW, challenge: /^Bearer realm=/, says: /another scheme/ },
  { name: "the scheme without a token", header: "Bearer", challenge: /^Bearer .*error="invalid_request"/, says: /malformed/ },
  { name: "a token with spaces inside", header: "Bearer test token", challenge: /^Bearer .*error="invalid_request"/, says: /malformed/ },
];

/** Every request that changes something, aimed at `job` (registered) and `fresh` (not registered). */
const CHANGES = (job: string, fresh: string) => [
  { method: "POST", path: "/jobs", body: { job_name: fresh, cron_expression: "0 3 * * *", handler: "testNoop" } as unknown },
  { method: "PATCH", path: `/jobs/${job}`, body: { is_active: false } as unknown },
  { method: "DELETE", path: `/jobs/${job}`, body: undefined },
  { method: "POST", path: `/jobs/${job}/trigger`, body: { triggered_by: "intruder" } as unknown },
  { method: "POST", path: `/jobs/${job}/trigger`, body: undefined },
];

describe("a change without a valid token is a 401 with a Bearer challenge, and nothing happens", () => {
  for (const bad of BAD) {
    it(bad.name, async () => {
      const job = uniqueName("auth");
      const fresh = uniqueName("auth-fresh");
      expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
      const auditBefore = await auditRows(job);
      for (const change of [...CHANGES(job, fresh), { method: "GET", path: "/audit", body: undefined }]) {
        const before = await dbSnapshot();
        const headers: Record<string, string> = bad.header === null ? {} : { authorization: bad.header };
        const res = await call(change.method, change.path, { body: change.body, token: null, headers });
        const what = `${change.method} ${change.path}`;
        expect(res.status, what).toBe(401);
        expect(res.headers.get("www-authenticate"), what).toMatch(/^Bearer/);
        expect(res.headers.get("www-authenticate"), what).toMatch(bad.challenge);
        expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
        expect(res.json, what).toEqual({ error: { code: "unauthorized", message: expect.stringMatching(bad.says) } });
        expect(await dbSnapshot(), what).toEqual(before);
      }
      expect(await jobRow(fresh)).toBeNull();
      expect(await jobRow(job)).toMatchObject({ job_name: job, is_active: 1 });
      expect(await runRows(job)).toEqual([]);
      expect(await auditRows(job)).toEqual(auditBefore);
      expect(await auditRows(fresh)).toEqual([]);
    });
  }

  it("checks the token before the body: no token and a bad body is still a 401", async () => {
    const before = await dbSnapshot();
    const huge = await call("POST", "/jobs", { token: null, rawBody: "x".repeat(20_000), headers: { "content-type": "application/json" } });
    expect(huge.status).toBe(401);
    const text = await call("POST", "/jobs", { token: null, rawBody: "hello", headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(401);
    expect(await dbSnapshot()).toEqual(before);
  });
});

describe("valid tokens", () => {
  it("accepts both rotated tokens, the old and the new, for every kind of change", async () => {
    const job = uniqueName("rotate");
    for (const [i, token] of [OLD, NEW].entries()) {
      const name = `${job}-${i}`;
      const created = await call("POST", "/jobs", { token, body: { job_name: name, cron_expression: "0 3 * * *", handler: "testNoop" } });
      expect(created.status, token).toBe(201);
      expect((await call("PATCH", `/jobs/${name}`, { token, body: { max_retries: 1 } })).status, token).toBe(200);
      expect((await call("POST", `/jobs/${name}/trigger`, { token, body: { dry_run: true } })).status, token).toBe(202);
      expect((await settled(name)).length).toBe(1);
      expect((await call("GET", `/audit?job_name=${name}`, { token })).status, token).toBe(200);
      expect((await call("DELETE", `/jobs/${name}`, { token })).status, token).toBe(200);
    }
    // Issue 14: the unnamed token is "api" in the trail, whichever of its values was used:
    // nothing derived from a token is stored (named keys tell people apart; see roles.test.ts).
    const [oldActor, newActor] = await Promise.all([0, 1].map(async (i) => (await auditRows(`${job}-${i}`))[0]!.actor));
    expect(oldActor).toBe("api");
    expect(newActor).toBe("api");
  });

  it('treats the scheme case-insensitively: "bearer" and "BEARER" are accepted', async () => {
    for (const scheme of ["bearer", "BEARER"]) {
      const name = uniqueName(`scheme-${scheme.toLowerCase()}`);
      const res = await call("POST", "/jobs", {
        token: null,
        headers: { authorization: `${scheme} ${NEW}` },
        body: { job_name: name, cron_expression: "0 3 * * *", handler: "testNoop" },
      });
      expect(res.status, scheme).toBe(201);
    }
  });

  it("accepts a token surrounded by spaces in the secret, and ignores empty entries", async () => {
    const overrides = { SCHEDULER_API_TOKEN: " first-token ,, second-token , " };
    const name = uniqueName("spaced");
    const body = { job_name: name, cron_expression: "0 3 * * *", handler: "testNoop" };
    expect((await callWith(overrides, "POST", "/jobs", { token: "second-token", body })).status).toBe(201);
    expect((await callWith(overrides, "PATCH", `/jobs/${name}`, { token: "first-token", body: { max_retries: 2 } })).status).toBe(200);
    expect((await callWith(overrides, "PATCH", `/jobs/${name}`, { token: NEW, body: { max_retries: 3 } })).status).toBe(401);
  });
});

describe("reads", () => {
  it("are public by default, and ignore a wrong token", async () => {
    const job = uniqueName("public");
    expect((await registerJob(job)).status).toBe(201);
    for (const path of ["/jobs", `/jobs/${job}`, `/jobs/${job}/runs`]) {
      expect((await call("GET", path, { token: null })).status, path).toBe(200);
      expect((await call("GET", path, { token: "wrong" })).status, path).toBe(200);
    }
    // No run yet: the endpoint answers (404 no_runs), it does not ask for a token.
    expect((await call("GET", `/jobs/${job}/last-result`, { token: null })).json.error.code).toBe("no_runs");
  });

  it('need a token when REQUIRE_AUTH_FOR_READS is "true"', async () => {
    const job = uniqueName("private");
    expect((await registerJob(job)).status).toBe(201);
    const locked = { REQUIRE_AUTH_FOR_READS: "true" };
    for (const path of ["/jobs", `/jobs/${job}`, `/jobs/${job}/runs`, `/jobs/${job}/last-result`]) {
      const refused = await callWith(locked, "GET", path);
      expect(refused.status, path).toBe(401);
      expect(refused.headers.get("www-authenticate"), path).toMatch(/^Bearer/);
      expect(refused.json.error.code, path).toBe("unauthorized");
      expect((await callWith(locked, "GET", path, { token: "wrong" })).status, path).toBe(401);
    }
    expect((await callWith(locked, "GET", "/jobs", { token: OLD })).status).toBe(200);
    expect((await callWith(locked, "GET", `/jobs/${job}`, { token: NEW })).status).toBe(200);
    // Issue 14: any other value locks reads (fail closed); see settings.test.ts.
    expect((await callWith({ REQUIRE_AUTH_FOR_READS: "yes" }, "GET", "/jobs")).status).toBe(401);
  });
});

describe("no secret configured: fail closed", () => {
  for (const [label, value] of [
    ["unset", undefined],
    ["empty", ""],
    ["only commas and spaces", " , ,"],
  ] as const) {
    it(`refuses every change with 403 and says how to configure it (${label})`, async () => {
      const job = uniqueName("closed");
      const fresh = uniqueName("closed-fresh");
      expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
      // Neither secret: the test Worker's named keys (issue 14) are taken away too.
      const overrides = { SCHEDULER_API_TOKEN: value, SCHEDULER_API_KEYS: undefined };
      for (const change of [...CHANGES(job, fresh), { method: "GET", path: "/audit", body: undefined }]) {
        const before = await dbSnapshot();
        // Even a token that would be valid elsewhere gets nowhere.
        const res = await callWith(overrides, change.method, change.path, { token: NEW, body: change.body });
        const what = `${change.method} ${change.path}`;
        expect(res.status, what).toBe(403);
        expect(res.json.error.code, what).toBe("auth_not_configured");
        expect(res.json.error.message, what).toMatch(/SCHEDULER_API_TOKEN/);
        expect(res.json.error.message, what).toMatch(/wrangler secret put SCHEDULER_API_TOKEN/);
        expect(res.json.error.message, what).toMatch(/\.dev\.vars/);
        expect(await dbSnapshot(), what).toEqual(before);
      }
      expect(await jobRow(fresh)).toBeNull();
      expect(await runRows(job)).toEqual([]);
      // Public reads still work.
      expect((await callWith(overrides, "GET", `/jobs/${job}`)).status).toBe(200);
      // With reads locked too, they are refused the same way.
      const lockedRead = await callWith({ ...overrides, REQUIRE_AUTH_FOR_READS: "true" }, "GET", "/jobs", { token: NEW });
      expect(lockedRead.status).toBe(403);
    });
  }
});
