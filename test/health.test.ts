import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { HealthSchema } from "../src/routes/health";
import { checkHealth } from "../src/services/health-service";
import { call, registerJob, uniqueName } from "./helpers/api";

// Storage is per test file, so the counts below are this file's jobs: the two built-in ones and its own.

async function health() {
  const response = await call("GET", "/health", { token: null });
  return { status: response.status, body: HealthSchema.parse(response.json), headers: response.headers };
}

describe("GET /api/v1/scheduler/health", () => {
  it("is public and reports storage, job counts and the last self-repair pass", async () => {
    const { status, body, headers } = await health();
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toBe("no-store");
    expect(body.status).toBe("ok");
    expect(body.problems).toEqual([]);
    expect(body.storage.reachable).toBe(true);
    expect(body.storage.round_trip_ms).toBeGreaterThanOrEqual(0);
    expect(body.jobs).toEqual({ total: 2, active: 2, overdue: 0, overdue_job_names: [] });
    // The first request starts the supervisor, which runs a pass at once.
    expect(body.last_self_repair_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(body.checked_at).toMatch(/Z$/);
  });

  it("counts registered and active jobs", async () => {
    const active = uniqueName("health-active");
    const paused = uniqueName("health-paused");
    expect((await registerJob(active)).status).toBe(201);
    expect((await registerJob(paused, { is_active: false })).status).toBe(201);
    try {
      const { status, body } = await health();
      expect(status).toBe(200);
      expect(body.jobs).toMatchObject({ total: 4, active: 3, overdue: 0 });
    } finally {
      await call("DELETE", `/jobs/${active}`);
      await call("DELETE", `/jobs/${paused}`);
    }
  });

  it("answers 503 and names the job when an active job is more than a minute overdue", async () => {
    const name = uniqueName("health-overdue");
    expect((await registerJob(name)).status).toBe(201);
    // Back-date it as if its alarm had not fired.
    await env.DB.prepare("UPDATE jobs SET next_run_at = '2000-01-01T00:00:00.000Z' WHERE job_name = ?").bind(name).run();
    try {
      const { status, body } = await health();
      expect(status).toBe(503);
      expect(body.status).toBe("failing");
      expect(body.jobs).toMatchObject({ active: 3, overdue: 1, overdue_job_names: [name] });
      expect(body.problems).toEqual([expect.stringContaining(`1 active job(s) overdue`)]);
      expect(body.problems[0]).toContain(name);
      expect(body.storage.reachable).toBe(true);
    } finally {
      expect((await call("DELETE", `/jobs/${name}`)).status).toBe(200);
    }
    expect((await health()).status).toBe(200);
  });

  it("does not count a job due less than a minute ago, nor a paused job, as overdue", async () => {
    const recent = uniqueName("health-recent");
    const paused = uniqueName("health-paused-old");
    await registerJob(recent);
    await registerJob(paused, { is_active: false });
    const thirtySecondsAgo = new Date(Date.now() - 30_000).toISOString();
    await env.DB.prepare("UPDATE jobs SET next_run_at = ? WHERE job_name = ?").bind(thirtySecondsAgo, recent).run();
    await env.DB.prepare("UPDATE jobs SET next_run_at = '2000-01-01T00:00:00.000Z' WHERE job_name = ?").bind(paused).run();
    try {
      const { status, body } = await health();
      expect(body.jobs?.overdue).toBe(0);
      expect(status).toBe(200);
    } finally {
      await call("DELETE", `/jobs/${recent}`);
      await call("DELETE", `/jobs/${paused}`);
    }
  });

  it("reports storage as unreachable when D1 fails, which makes the answer 503", async () => {
    const broken = {
      prepare() {
        throw new Error("D1_ERROR: network connection lost");
      },
    } as unknown as D1Database;
    const body = await checkHealth({ ...env, DB: broken });
    expect(body.status).toBe("failing");
    // Issue 14: a stable code and a safe message; D1's own text goes to the log only.
    expect(body.storage).toEqual({ reachable: false, round_trip_ms: null, error: { code: "storage_unreachable", message: "The database did not answer." } });
    expect(JSON.stringify(body)).not.toContain("network connection lost");
    expect(body.jobs).toBeNull();
    expect(body.problems).toEqual(["storage (D1) is unreachable (the details are in the service's log)"]);

    // Through the route: the same check answers 503.
    const response = await createApp().request("https://scheduler.test/api/v1/scheduler/health", {}, { ...env, DB: broken });
    expect(response.status).toBe(503);
  });

  it("warns, without a 503, when the platform has no active mentor or its mentors table cannot be read", async () => {
    // No platform data in this file's database: the nightly check would find nobody.
    const { status, body } = await health();
    expect(status).toBe(200);
    expect(body.platform).toEqual({ status: "warning", active_mentors: 0, message: expect.stringContaining("0 active mentors") });

    const noMentorsTable = new Proxy(env.DB, {
      get(target, key) {
        if (key !== "prepare") return Reflect.get(target, key, target);
        return (query: string) => {
          if (/"mentors"/.test(query)) throw new Error("D1_ERROR: no such table: mentors: SQLITE_ERROR");
          return target.prepare(query);
        };
      },
    });
    const missing = await checkHealth({ ...env, DB: noMentorsTable });
    expect(missing.status).toBe("ok");
    expect(missing.platform).toEqual({ status: "warning", active_mentors: null, message: expect.stringContaining("cannot be read") });
    expect(JSON.stringify(missing)).not.toContain("no such table"); // D1's own text stays in the log (issue 14)
  });

  it("stays public when reads require a token", async () => {
    const strict = { ...env, REQUIRE_AUTH_FOR_READS: "true" };
    const app = createApp();
    expect((await app.request("https://scheduler.test/api/v1/scheduler/jobs", {}, strict)).status).toBe(401);
    expect((await app.request("https://scheduler.test/api/v1/scheduler/health", {}, strict)).status).toBe(200);
    expect((await app.request("https://scheduler.test/api/v1/scheduler/openapi.json", {}, strict)).status).toBe(200);
  });

  it("is served under the contract's doubled prefix too", async () => {
    const response = await call("GET", "https://scheduler.test/api/v1/scheduler/api/v1/scheduler/health", { token: null });
    expect(response.status).toBe(200);
    expect(response.json.status).toBe("ok");
  });
});
