import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { nextRunAfter, upcomingRuns } from "../src/cron/schedule";
import { clock } from "../src/lib/clock";
import { call, registerJob, uniqueName } from "./helpers/api";
import { freezeClock } from "./helpers/clock";
import { alarmFor, inspect, settled } from "./helpers/scheduler";

beforeEach(() => freezeClock());
const iso = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, "Z") : null);
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const DOUBLED = "https://scheduler.test/api/v1/scheduler/api/v1/scheduler";

describe("GET /jobs", () => {
  it("lists the built-in jobs, armed on a fresh start, in the contract's shape", async () => {
    const list = await call("GET", "/jobs");
    expect(list.status).toBe(200);
    expect(list.json.pagination).toEqual({ page: 1, limit: 20, total: expect.any(Number) });
    const nightly = list.json.data.find((j: { job_name: string }) => j.job_name === "certification-expiry-nightly");
    expect(nightly).toEqual({
      job_name: "certification-expiry-nightly",
      cron_expression: "0 2 * * *",
      timezone: "UTC",
      is_active: true,
      last_run_at: null,
      last_run_status: null,
      next_run_at: iso(nextRunAfter("0 2 * * *", "UTC", clock.now())),
      version: 1,
      open_alerts: [],
    });
    const lift = list.json.data.find((j: { job_name: string }) => j.job_name === "pause-auto-lift-check");
    expect(lift.next_run_at).toBe(iso(nextRunAfter("0 6 * * *", "UTC", clock.now())));
  });

  it("pages by job_name with a stable order and counts every job in total", async () => {
    const prefix = uniqueName("page");
    for (const suffix of ["c", "a", "b"]) expect((await registerJob(`${prefix}-${suffix}`)).status).toBe(201);
    const { total } = (await call("GET", "/jobs")).json.pagination;
    const { count } = (await env.DB.prepare("SELECT count(*) AS count FROM jobs").first<{ count: number }>())!;
    expect(total).toBe(count);

    const names: string[] = [];
    for (let page = 1; page <= Math.ceil(total / 2); page++) {
      const res = await call("GET", `/jobs?page=${page}&limit=2`);
      expect(res.json.pagination).toEqual({ page, limit: 2, total });
      names.push(...res.json.data.map((j: { job_name: string }) => j.job_name));
    }
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(total);
    expect(names.filter((n) => n.startsWith(prefix))).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
    expect((await call("GET", `/jobs?page=${total + 1}&limit=1`)).json.data).toEqual([]);
    expect((await call("GET", "/jobs?limit=100")).status).toBe(200);
    expect((await call("GET", "/jobs?limit=101")).status).toBe(400);
  });
});

describe("POST /jobs", () => {
  it("registers a job: 201 with the contract's fields and the next run instant", async () => {
    const name = uniqueName("weekly");
    const res = await registerJob(name, { cron_expression: "0 8 * * 1", handler: "generateWeeklyExpiryReport", is_active: true });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      job_name: name,
      cron_expression: "0 8 * * 1",
      timezone: "UTC",
      is_active: true,
      created_at: iso(clock.now()),
      next_run_at: iso(nextRunAfter("0 8 * * 1", "UTC", clock.now())),
      version: 1,
    });
    expect(res.headers.get("etag")).toBe('"1"');
    expect(res.json.created_at).toMatch(ISO_SECONDS);
    const state = await inspect(name);
    expect(state.alarmAt).toBe(alarmFor(res.json.next_run_at));
  });

  it("is_active defaults to true; an inactive job has next_run_at null", async () => {
    const name = uniqueName("defaults");
    const res = await call("POST", "/jobs", { body: { job_name: name, cron_expression: "@hourly", handler: "liftExpiredPauses" } });
    expect(res.json.is_active).toBe(true);
    expect(res.json.next_run_at).not.toBeNull();
    const off = await registerJob(uniqueName("off"), { is_active: false });
    expect(off.json).toMatchObject({ is_active: false, next_run_at: null });
  });

  it("refuses a name already registered (409), an unknown handler (422, listing the known ones), a never-firing cron (400)", async () => {
    const name = uniqueName("dup");
    await registerJob(name);
    const dup = await registerJob(name);
    expect(dup.status).toBe(409);
    expect(dup.json.error.message).toContain(name);

    const unknown = await registerJob(uniqueName("h"), { handler: "sendNewsletter" });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.code).toBe("unknown_handler");
    for (const known of ["checkCertificationExpiry", "generateWeeklyExpiryReport", "liftExpiredPauses"]) {
      expect(unknown.json.error.message).toContain(known);
    }
    const never = await registerJob(uniqueName("never"), { cron_expression: "0 0 30 2 *" });
    expect(never.status).toBe(400);
    expect(never.json.error.message).toMatch(/never fires/);
  });
});

describe("trigger and last-result", () => {
  it("a trigger answers 202 at once and last-result then shows the real summary", async () => {
    const name = uniqueName("manual");
    await registerJob(name, { handler: "testNoop" });
    expect((await call("GET", `/jobs/${name}/last-result`)).status).toBe(404);

    const res = await call("POST", `/jobs/${name}/trigger`, { body: { triggered_by: "coordinator-007", dry_run: false } });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ job_name: name, triggered_at: iso(clock.now()), run_id: expect.stringMatching(/^run-\d{4,}$/), status: "running", dry_run: false });

    await settled(name);
    const last = await call("GET", `/jobs/${name}/last-result`);
    expect(last.status).toBe(200);
    expect(last.json).toMatchObject({
      job_name: name,
      run_id: res.json.run_id,
      started_at: res.json.triggered_at,
      status: "success",
      result_summary: { done: 1, dry_run: 0 },
      triggered_by: "coordinator-007",
    });
    expect(last.json.completed_at).toMatch(ISO_SECONDS);
    expect(last.json).not.toHaveProperty("dry_run");
    expect(last.json).not.toHaveProperty("error");
  });

  it("a dry run is recorded and marked, and does not count as the job's last real run", async () => {
    const name = uniqueName("dry");
    await registerJob(name, { handler: "testNoop" });
    const res = await call("POST", `/jobs/${name}/trigger`, { body: { dry_run: true } });
    expect(res.json.dry_run).toBe(true);
    await settled(name);
    const last = await call("GET", `/jobs/${name}/last-result`);
    expect(last.json).toMatchObject({ run_id: res.json.run_id, dry_run: true, result_summary: { dry_run: 1 } });
    const listed = (await call("GET", "/jobs?limit=100")).json.data.find((j: { job_name: string }) => j.job_name === name);
    expect(listed).toMatchObject({ last_run_at: null, last_run_status: null });
  });

  it("run ids count each job's runs from run-0001, in the order they start", async () => {
    const a = uniqueName("seq-a");
    const b = uniqueName("seq-b");
    await registerJob(a, { handler: "testNoop" });
    await registerJob(b, { handler: "testNoop", overlap_policy: "allow" });
    expect((await call("POST", `/jobs/${a}/trigger`, { body: {} })).json.run_id).toBe("run-0001");
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await call("POST", `/jobs/${b}/trigger`, { body: {} })).json.run_id);
    expect(ids).toEqual(["run-0001", "run-0002", "run-0003"]);
    await settled(a);
    const runs = await settled(b);
    expect(runs.map((r) => r.run_no)).toEqual([1, 2, 3]);
  });
});

describe("DELETE /jobs/:jobName", () => {
  it("cancels the alarm, deregisters, keeps history; deleting again is 404", async () => {
    const name = uniqueName("gone");
    await registerJob(name, { handler: "testNoop" });
    await call("POST", `/jobs/${name}/trigger`, { body: {} });
    await settled(name);
    const res = await call("DELETE", `/jobs/${name}`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ deleted: true, job_name: name, cancelled_at: iso(clock.now()) });
    expect((await inspect(name)).alarmAt).toBeNull();
    expect((await call("DELETE", `/jobs/${name}`)).status).toBe(404);
    const kept = await env.DB.prepare("SELECT count(*) AS n FROM runs WHERE job_name = ?").bind(name).first<{ n: number }>();
    expect(kept!.n).toBe(1);
  });
});

describe("every endpoint", () => {
  it("answers 404 JSON for an unknown job", async () => {
    const name = uniqueName("nobody");
    const answers = await Promise.all([
      call("GET", `/jobs/${name}`),
      call("PATCH", `/jobs/${name}`, { body: { is_active: false } }),
      call("DELETE", `/jobs/${name}`),
      call("POST", `/jobs/${name}/trigger`, { body: {} }),
      call("GET", `/jobs/${name}/last-result`),
      call("GET", `/jobs/${name}/runs`),
    ]);
    for (const a of answers) {
      expect(a.status).toBe(404);
      expect(a.json.error.code).toBe("job_not_found");
      expect(a.json.error.message).toContain(name);
    }
  });

  it("is served under the contract's doubled prefix too", async () => {
    const name = uniqueName("alias");
    const created = await call("POST", `${DOUBLED}/jobs`, { body: { job_name: name, cron_expression: "0 2 * * *", handler: "testNoop" } });
    expect(created.status).toBe(201);
    expect((await call("GET", `${DOUBLED}/jobs?limit=100`)).json.data.some((j: { job_name: string }) => j.job_name === name)).toBe(true);
    const run = await call("POST", `${DOUBLED}/jobs/${name}/trigger`, { body: {} });
    expect(run.status).toBe(202);
    await settled(name);
    expect((await call("GET", `${DOUBLED}/jobs/${name}/last-result`)).json.run_id).toBe(run.json.run_id);
    expect((await call("DELETE", `${DOUBLED}/jobs/${name}`)).status).toBe(200);
  });
});

describe("job detail and updates", () => {
  it("GET /jobs/:jobName returns everything, with the next 5 run instants", async () => {
    const name = uniqueName("detail");
    await registerJob(name, { cron_expression: "30 2 * * *", timezone: "America/New_York", max_retries: 2 });
    const res = await call("GET", `/jobs/${name}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      job_name: name,
      timezone: "America/New_York",
      handler: "checkCertificationExpiry",
      overlap_policy: "skip",
      misfire_policy: "run_once",
      catchup_window_seconds: 86400,
      max_retries: 2,
      timeout_seconds: 300,
    });
    expect(res.json.upcoming_runs).toEqual(upcomingRuns("30 2 * * *", "America/New_York", clock.now(), 5).map(iso));
    expect(res.json.next_run_at).toBe(res.json.upcoming_runs[0]);
  });

  it("PATCH pauses (alarm cancelled, next_run_at null) and resumes (re-armed from now)", async () => {
    const name = uniqueName("pause");
    await registerJob(name, { cron_expression: "*/5 * * * *" });
    const paused = await call("PATCH", `/jobs/${name}`, { body: { is_active: false } });
    expect(paused.status).toBe(200);
    expect(paused.json).toMatchObject({ is_active: false, next_run_at: null, upcoming_runs: [] });
    expect((await inspect(name)).alarmAt).toBeNull();

    const resumed = await call("PATCH", `/jobs/${name}`, { body: { is_active: true } });
    expect(resumed.json.next_run_at).toBe(iso(nextRunAfter("*/5 * * * *", "UTC", clock.now())));
    expect((await inspect(name)).alarmAt).toBe(alarmFor(resumed.json.next_run_at));
  });

  it("PATCH of the cron or the zone recomputes next_run_at at once; policies keep it", async () => {
    const name = uniqueName("recron");
    await registerJob(name, { cron_expression: "0 2 * * *" });
    const moved = await call("PATCH", `/jobs/${name}`, { body: { cron_expression: "15 4 * * *", timezone: "Europe/Berlin" } });
    expect(moved.json).toMatchObject({ cron_expression: "15 4 * * *", timezone: "Europe/Berlin" });
    expect(moved.json.next_run_at).toBe(iso(nextRunAfter("15 4 * * *", "Europe/Berlin", clock.now())));
    expect((await inspect(name)).config?.timezone).toBe("Europe/Berlin");

    const policy = await call("PATCH", `/jobs/${name}`, { body: { overlap_policy: "allow", max_retries: 3 } });
    expect(policy.json).toMatchObject({ overlap_policy: "allow", max_retries: 3, next_run_at: moved.json.next_run_at });
    expect((await inspect(name)).config).toMatchObject({ overlapPolicy: "allow", maxRetries: 3 });
  });

  it("PATCH refuses an empty patch, a job_name, and an unknown job", async () => {
    const name = uniqueName("patchbad");
    await registerJob(name);
    const empty = await call("PATCH", `/jobs/${name}`, { body: {} });
    expect(empty.status).toBe(400);
    expect(empty.json.error.message).toMatch(/empty/);
    const rename = await call("PATCH", `/jobs/${name}`, { body: { job_name: "other" } });
    expect(rename.status).toBe(400);
    expect(rename.json.error.message).toMatch(/job_name cannot be changed/);
    expect((await call("PATCH", `/jobs/${uniqueName("ghost")}`, { body: { is_active: true } })).status).toBe(404);
  });
});

describe("GET /jobs/:jobName/runs", () => {
  it("pages the history newest first with a cursor", async () => {
    const name = uniqueName("history");
    await registerJob(name, { handler: "testNoop", overlap_policy: "allow" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await call("POST", `/jobs/${name}/trigger`, { body: { triggered_by: `op-${i}` } })).json.run_id);
    await settled(name);
    const first = await call("GET", `/jobs/${name}/runs?limit=2`);
    expect(first.json.data.map((r: { run_id: string }) => r.run_id)).toEqual([ids[4], ids[3]]);
    expect(first.json.next_cursor).toBe(ids[3]);
    const second = await call("GET", `/jobs/${name}/runs?limit=2&cursor=${first.json.next_cursor}`);
    expect(second.json.data.map((r: { run_id: string }) => r.run_id)).toEqual([ids[2], ids[1]]);
    const last = await call("GET", `/jobs/${name}/runs?limit=2&cursor=${second.json.next_cursor}`);
    expect(last.json).toMatchObject({ next_cursor: null });
    expect(last.json.data).toHaveLength(1);
    expect(last.json.data[0]).toEqual({
      run_id: ids[0],
      status: "success",
      scheduled_for: null,
      catch_up: false,
      triggered_by: "op-0",
      dry_run: false,
      attempts: 1,
      started_at: expect.stringMatching(ISO_SECONDS),
      completed_at: expect.stringMatching(ISO_SECONDS),
      duration_ms: expect.any(Number),
      result_summary: { done: 1, dry_run: 0 },
      deliveries: { queued: 0, sent: 0, failed: 0, dead: 0 },
    });
  });
});
