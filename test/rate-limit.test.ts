import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import wranglerToml from "../wrangler.toml?raw";
import type { Env } from "../src/env";
import worker from "../src/index";
import { BASE, call, registerJob, TOKEN, uniqueName } from "./helpers/api";

/**
 * Issue 14, "Guessing keys": failed authentications are counted per client address
 * (CF-Connecting-IP) through the AUTH_FAILURES Rate Limiting binding; over the limit,
 * 429 with Retry-After, and then even a right key from that address waits.
 * Each test uses its own address, so no test (and no other file) counts against another;
 * requests without CF-Connecting-IP (every other test file) are not counted at all.
 */

let n = 0;
const address = () => `198.51.100.${(n += 1) + Math.floor(Math.random() * 200)}`;

/** A stand-in binding with the same contract (a fixed window), so the exact trip point can be checked without the wall clock. */
function fakeLimiter(limit: number): RateLimit & { calls: string[] } {
  const counts = new Map<string, number>();
  const calls: string[] = [];
  return {
    calls,
    async limit({ key }: RateLimitOptions) {
      calls.push(key);
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      return { success: count <= limit };
    },
  };
}

async function attempt(ip: string, token: string | null, overrides: Partial<Env> = {}, path = "/jobs") {
  const headers: Record<string, string> = { "cf-connecting-ip": ip, "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`, { method: "POST", headers, body: "{}" }), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, retryAfter: response.headers.get("retry-after"), json: (await response.json()) as any };
}

describe("the configured limit", () => {
  it("wrangler.toml binds AUTH_FAILURES at most 30 and at least 10 failures a minute", () => {
    const block = /\[\[ratelimits\]\]\s*\nname = "AUTH_FAILURES"[\s\S]*?simple = \{ limit = (\d+), period = (\d+) \}/.exec(wranglerToml);
    expect(block).not.toBeNull();
    const [, limit, period] = block!.map(Number);
    expect(period).toBe(60);
    expect(limit).toBeLessThanOrEqual(30);
    expect(limit).toBeGreaterThanOrEqual(10);
  });
});

describe("with a stand-in binding (the exact trip point)", () => {
  it("the 21st failure in the window is a 429 with Retry-After, and then the right key waits too", async () => {
    const limiter = fakeLimiter(20);
    const ip = address();
    for (let i = 1; i <= 20; i++) expect((await attempt(ip, `guess-${i}`, { AUTH_FAILURES: limiter })).status, `guess ${i}`).toBe(401);
    const tripped = await attempt(ip, "guess-21", { AUTH_FAILURES: limiter });
    expect(tripped.status).toBe(429);
    expect(tripped.retryAfter).toBe("60");
    expect(tripped.json.error.code).toBe("too_many_failed_attempts");
    // A right guess now cannot be told from a wrong one.
    expect((await attempt(ip, TOKEN, { AUTH_FAILURES: limiter })).status).toBe(429);
    // Another address is not affected.
    expect((await attempt(address(), "wrong", { AUTH_FAILURES: limiter })).status).toBe(401);
    expect(limiter.calls.every((key) => key.startsWith("auth-failure:"))).toBe(true);
  });

  it("counts only credentials that were sent and refused: not a missing header, not a success", async () => {
    const limiter = fakeLimiter(20);
    const ip = address();
    const job = uniqueName("rl");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await attempt(ip, null, { AUTH_FAILURES: limiter })).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await attempt(ip, TOKEN, { AUTH_FAILURES: limiter }, `/jobs/${job}/trigger`)).status).not.toBe(401);
    expect(limiter.calls).toEqual([]);
    for (const bad of ["Bearer wrong", "Basic abc", "Bearer a b"]) {
      const ctx = createExecutionContext();
      await worker.fetch(new Request(`${BASE}/jobs`, { method: "POST", headers: { "cf-connecting-ip": ip, authorization: bad } }), { ...env, AUTH_FAILURES: limiter }, ctx);
      await waitOnExecutionContext(ctx);
    }
    expect(limiter.calls).toHaveLength(3);
  });
});

describe("with the real binding (miniflare's, wall-clock windows)", () => {
  it("a handful of mistakes never trips it", async () => {
    const ip = address();
    for (let i = 0; i < 5; i++) expect((await attempt(ip, `oops-${i}`)).status).toBe(401);
    expect((await attempt(ip, TOKEN)).status).not.toBe(401);
  });

  it("a guessing loop is stopped with 429 (within 41 tries even if a minute boundary falls inside the loop)", async () => {
    const ip = address();
    let first429 = 0;
    for (let i = 1; i <= 45 && first429 === 0; i++) if ((await attempt(ip, `guess-${i}`)).status === 429) first429 = i;
    expect(first429).toBeGreaterThan(20);
    expect(first429).toBeLessThanOrEqual(41);
    expect((await attempt(ip, TOKEN)).status).toBe(429);
  });

  it("does not count requests that did not come through the edge (no CF-Connecting-IP), as in every other test file", async () => {
    for (let i = 0; i < 30; i++) expect((await call("POST", "/jobs", { token: `nope-${i}`, body: {} })).status).toBe(401);
  });
});
