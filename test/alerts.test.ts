import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { z } from "@hono/zod-openapi";
import { clock } from "../src/lib/clock";
import { configuredKeys } from "../src/middleware/auth";
import { WEBHOOK_EVENTS } from "../src/openapi/webhooks";
import { ADMIT_AFTER_MS } from "../src/scheduler/run-executor";
import { call, registerJob, uniqueName } from "./helpers/api";
import { advanceClock, freezeClock } from "./helpers/clock";
import { received } from "./helpers/delivery";
import { fireAlarm, inspect, jobRow, MINUTE, minuteFloor, schedulerOf, setNext, settled } from "./helpers/scheduler";
import { failNext, gate } from "./helpers/test-handlers";

beforeEach(() => freezeClock());
const clockNow = () => clock.now().getTime();
const supervisor = () => env.SUPERVISOR.getByName("supervisor");
const trigger = (name: string, body: unknown = {}) => call("POST", `/jobs/${name}/trigger`, { body });

interface AlertRecord {
  alert_id: number;
  kind: string;
  scheduled_for: string | null;
  run_no: number | null;
  message: string;
  opened_at: string;
  resolved_at: string | null;
  resolution: string | null;
}

async function alertsOf(jobName: string): Promise<AlertRecord[]> {
  const { results } = await env.DB.prepare("SELECT * FROM alerts WHERE job_name = ? ORDER BY alert_id").bind(jobName).all<AlertRecord>();
  return results;
}

/** The job's alert notifications in the outbox, oldest first. */
async function noticesOf(jobName: string): Promise<{ kind: string; dedupe_key: string; payload: Record<string, unknown> }[]> {
  const { results } = await env.DB.prepare("SELECT kind, dedupe_key, payload FROM notification_outbox WHERE job_name = ? AND kind LIKE 'job.alert.%' ORDER BY notification_id")
    .bind(jobName)
    .all<{ kind: string; dedupe_key: string; payload: string }>();
  return results.map((r) => ({ ...r, payload: JSON.parse(r.payload) }));
}

/** Sets when the supervisor's last pass was (a gap since then is an outage). */
async function lastPassAt(at: number) {
  await runInDurableObject(supervisor(), (_instance, state) => {
    state.storage.kv.put("last_pass", { at: new Date(at).toISOString(), repaired: [], inspected: 0, pruned_runs: 0 });
  });
}

async function loseAlarm(name: string) {
  await runInDurableObject(schedulerOf(name), async (_instance, state) => {
    await state.storage.deleteAlarm();
  });
}

/** Fires the job's instant `due` (its alarm) and waits for the run to be recorded. */
async function runInstant(name: string, due: number) {
  await setNext(name, due);
  await fireAlarm(name);
  return settled(name);
}

describe("missed", () => {
  it("while the Worker was down: the supervisor's pass on restart opens ONE missed alert naming the outage; the object's own skip adds nothing", async () => {
    const name = uniqueName("down");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop", misfire_policy: "skip", start_deadline_seconds: 30 });
    await lastPassAt(clockNow());
    advanceClock(10 * MINUTE + 20_000); // nothing runs: no alarm, no pass; back 37 s after an instant

    const report = await supervisor().runPass();
    expect(report.alerts?.missed).toBeGreaterThanOrEqual(1);
    const instant = minuteFloor(clockNow());
    let alerts = await alertsOf(name);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: "missed", scheduled_for: new Date(instant).toISOString(), run_no: null, resolved_at: null });
    expect(alerts[0]!.message).toContain(`${name} missed its run of ${new Date(instant).toISOString().slice(0, 10)} ${new Date(instant).toISOString().slice(11, 16)} UTC`);
    expect(alerts[0]!.message).toContain("no run started by 2031-06-11 10:30:30 UTC; the service was unreachable from 2031-06-11 10:20:17 UTC to 2031-06-11 10:30:37 UTC");

    // The pass re-armed the overdue job: its alarm runs the instant (within the alarm's grace), 37 s
    // after it, so the job's object finds it missed too; the open alert stays the one alert, with its one notification.
    await fireAlarm(name);
    const runs = await settled(name);
    expect(runs.map((r) => [r.status, r.scheduled_for])).toEqual([["success", new Date(instant).toISOString()]]);
    await supervisor().runPass();
    alerts = await alertsOf(name);
    expect(alerts).toHaveLength(1);
    const notices = await noticesOf(name);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ kind: "job.alert.opened", dedupe_key: `alert:${alerts[0]!.alert_id}:opened` });
    expect(notices[0]!.payload).toEqual({
      alert_id: `alert-${alerts[0]!.alert_id}`,
      kind: "missed",
      job_name: name,
      scheduled_for: new Date(instant).toISOString().replace(".000Z", "Z"),
      run_id: null,
      message: alerts[0]!.message,
      opened_at: new Date(clockNow()).toISOString().replace(/\.\d{3}Z$/, "Z"),
      resolved_at: null,
    });
    // It goes out through the delivery engine: the webhook receives it, typed job.alert.opened,
    // exactly as the document's webhooks section describes it (src/openapi/webhooks.ts).
    const hooks = await vi.waitFor(
      async () => {
        const hooks = (await received("/hooks/default")).map((r) => JSON.parse(r.body)).filter((b) => b.data?.job_name === name);
        expect(hooks.map((h) => h.type)).toEqual(["job.alert.opened"]);
        return hooks;
      },
      { timeout: 5_000, interval: 20 },
    );
    const documented = WEBHOOK_EVENTS["job.alert.opened"];
    expect(() => documented.parse(hooks[0])).not.toThrow();
    expect(Object.keys(hooks[0].data).sort()).toEqual(Object.keys((documented.shape.data as z.ZodObject).shape).sort());
  });

  it("with a lost alarm: found from D1 by the supervisor, not by the job's object; the object's late catch-up adds nothing", async () => {
    const name = uniqueName("lost");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop", start_deadline_seconds: 30 });
    await loseAlarm(name);
    advanceClock(5 * MINUTE + 20_000);
    await lastPassAt(clockNow() - 30_000); // the supervisor itself ran all along

    await supervisor().runPass();
    const alerts = await alertsOf(name);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.kind).toBe("missed");
    expect(alerts[0]!.message).toContain(`no run started by 2031-06-11 10:25:30 UTC; none had started when the supervisor looked at 2031-06-11 10:25:37 UTC`);
    // The pass re-armed it; misfire_policy run_once runs one catch-up, 37 s after its instant: missed as well, same alert.
    await fireAlarm(name);
    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "success", catch_up: 1 });
    expect(await alertsOf(name)).toHaveLength(1);
    expect((await alertsOf(name))[0]!.resolved_at).toBeNull(); // a late run is not on time
    expect(await noticesOf(name)).toHaveLength(1);
  });

  it("back after the next instant already came: the object opens missed for the instant it passed over, and the on-time run resolves it", async () => {
    const name = uniqueName("passed");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop", misfire_policy: "skip" });
    const stored = Date.parse(String((await jobRow(name))?.next_run_at));
    advanceClock(stored + 2 * MINUTE + 5_000 - clockNow()); // down across two instants, back 5 s after the third
    await fireAlarm(name);
    const runs = await settled(name);
    expect(runs.map((r) => [r.status, r.scheduled_for])).toEqual([["success", new Date(stored + 2 * MINUTE).toISOString()]]);
    const [alert, ...more] = await alertsOf(name);
    expect(more).toEqual([]);
    expect(alert).toMatchObject({ kind: "missed", scheduled_for: new Date(stored).toISOString() });
    expect(alert!.message).toContain("the service was not running or the job's alarm did not fire then");
    expect(alert!.resolution).toContain("run-0001");
    expect((await noticesOf(name)).map((n) => n.kind)).toEqual(["job.alert.opened", "job.alert.resolved"]);
    // The supervisor, looking later, finds the alert that covers the instant: nothing new.
    advanceClock(11 * MINUTE);
    await lastPassAt(clockNow() - 30_000);
    await supervisor().runPass();
    expect((await alertsOf(name)).filter((a) => a.scheduled_for === new Date(stored).toISOString())).toHaveLength(1);
  });

  it("an instant whose run started in time is not missed; nor is one from before the job was registered", async () => {
    const name = uniqueName("fine");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop", start_deadline_seconds: 60 });
    await lastPassAt(clockNow() - 30_000);
    await supervisor().runPass(); // the instant a minute before the registration had no run: not held against the job
    expect(await alertsOf(name)).toEqual([]);
    const due = minuteFloor(clockNow()) + MINUTE;
    advanceClock(due - clockNow());
    await runInstant(name, due);
    advanceClock(90_000); // due + 90 s: the deadline of `due` has passed, the next instant's has not
    await lastPassAt(clockNow() - 30_000);
    await supervisor().runPass();
    expect(await alertsOf(name)).toEqual([]);
  });
});

describe("late", () => {
  it("a run still going past finish_deadline_seconds: the supervisor opens late; the run's own record adds nothing and does not resolve it", async () => {
    const name = uniqueName("late");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testGated", finish_deadline_seconds: 60 });
    const release = gate(name);
    const due = minuteFloor(clockNow()) + MINUTE;
    advanceClock(due - clockNow());
    await setNext(name, due);
    await fireAlarm(name);
    advanceClock(ADMIT_AFTER_MS);
    await fireAlarm(name); // written to D1 as running
    await lastPassAt(clockNow());
    await supervisor().runPass();
    expect(await alertsOf(name)).toEqual([]); // 10 s in: not late yet

    advanceClock(55_000);
    await lastPassAt(clockNow() - 30_000);
    await supervisor().runPass();
    let alerts = await alertsOf(name);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: "late", run_no: 1, scheduled_for: new Date(due).toISOString() });
    expect(alerts[0]!.message).toContain("(run-0001) was still going at");

    release();
    const runs = await settled(name);
    expect(runs[0]!.status).toBe("success");
    alerts = await alertsOf(name);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.resolved_at).toBeNull();
    expect((await noticesOf(name)).map((n) => n.kind)).toEqual(["job.alert.opened"]);
  });

  it("a run that finishes after its deadline before anyone looked is late, from its record", async () => {
    const name = uniqueName("late-end");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testGated", finish_deadline_seconds: 30 });
    const release = gate(name);
    const due = minuteFloor(clockNow()) + MINUTE;
    advanceClock(due - clockNow());
    await setNext(name, due);
    await fireAlarm(name);
    advanceClock(45_000);
    release();
    await settled(name);
    const alerts = await alertsOf(name);
    expect(alerts.map((a) => a.kind)).toEqual(["late"]);
    expect(alerts[0]!.message).toMatch(/It succeeded 45 s after the instant\.$/);
  });
});

describe("failing and paused by policy", () => {
  it("alert_after_failures: the Nth failure in a row opens failing, once; a success in between starts the count again", async () => {
    const name = uniqueName("failing");
    await registerJob(name, { handler: "testBroken", alert_after_failures: 2 });
    const runWith = async (handler: string) => {
      await call("PATCH", `/jobs/${name}`, { body: { handler } });
      expect((await trigger(name)).status).toBe(202);
      await settled(name);
    };
    await runWith("testBroken");
    await runWith("testNoop");
    await runWith("testBroken");
    expect(await alertsOf(name)).toEqual([]); // failed, succeeded, failed: never 2 in a row
    await runWith("testBroken");
    const alerts = await alertsOf(name);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: "failing", run_no: 4, scheduled_for: null });
    expect(alerts[0]!.message).toBe(`${name} failed 2 runs in a row; the last, run-0004 (manual run), failed: The handler failed; the details are in the service's log and, with an API key, in error_detail.`);
    await trigger(name);
    await settled(name);
    expect(await alertsOf(name)).toHaveLength(1);
    expect(await noticesOf(name)).toHaveLength(1);
  });

  it("pause_after_failures: the job is paused by the system, audited with the reason, disarmed, and says so", async () => {
    const name = uniqueName("pause");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testBroken", pause_after_failures: 2, alert_after_failures: 5 });
    const first = minuteFloor(clockNow()) + MINUTE;
    advanceClock(first - clockNow());
    await runInstant(name, first);
    expect((await jobRow(name))?.is_active).toBe(1);
    advanceClock(MINUTE);
    await runInstant(name, first + MINUTE);

    const job = await jobRow(name);
    expect(job).toMatchObject({ is_active: 0, next_run_at: null });
    expect((await inspect(name)).alarmAt).toBeNull();
    const alerts = await alertsOf(name);
    expect(alerts.map((a) => a.kind)).toEqual(["paused_by_policy"]);
    expect(alerts[0]!.message).toContain(`${name} was paused after 2 failed run(s) in a row (pause_after_failures=2); the last, run-0002, failed`);
    const audit = await call("GET", `/audit?job_name=${name}`);
    const pause = audit.json.data.find((a: { action: string }) => a.action === "pause");
    expect(pause).toMatchObject({ actor: "system", after: { is_active: false, paused_by: "policy" } });
    expect(pause.after.reason).toContain("pause_after_failures=2");
    // No key can be named "system": the audit's actor for a pause by policy is the system's alone.
    expect(configuredKeys({ SCHEDULER_API_KEYS: "system:admin:tok-system" }).keys).toEqual([]);
    const detail = await call("GET", `/jobs/${name}`);
    expect(detail.json.is_active).toBe(false);
    expect(detail.json.open_alerts.map((a: { kind: string }) => a.kind)).toEqual(["paused_by_policy"]);
  });
});

describe("resolution", () => {
  it("the next on-time success resolves every open alert of the job, with one resolved notification each; a manual success does not", async () => {
    const name = uniqueName("resolve");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testFlaky" });
    failNext(name, 1);
    const first = minuteFloor(clockNow()) + MINUTE;
    advanceClock(first - clockNow());
    await runInstant(name, first);
    expect((await alertsOf(name)).map((a) => [a.kind, a.resolved_at])).toEqual([["failing", null]]);

    await trigger(name); // a manual run has no instant: not "on time"
    await settled(name);
    expect((await alertsOf(name))[0]!.resolved_at).toBeNull();

    advanceClock(MINUTE);
    await runInstant(name, first + MINUTE);
    const [alert] = await alertsOf(name);
    expect(alert!.resolved_at).toBe(new Date(clockNow()).toISOString());
    expect(alert!.resolution).toContain("run-0003");
    const notices = await noticesOf(name);
    expect(notices.map((n) => n.kind)).toEqual(["job.alert.opened", "job.alert.resolved"]);
    expect(notices[1]!.payload).toMatchObject({ alert_id: `alert-${alert!.alert_id}`, kind: "failing", run_id: "run-0001", resolved_at: new Date(clockNow()).toISOString().replace(/\.\d{3}Z$/, "Z") });

    // Resolved for good: the next on-time success sends nothing more.
    advanceClock(MINUTE);
    await runInstant(name, first + 2 * MINUTE);
    expect(await noticesOf(name)).toHaveLength(2);
  });
});

describe("what changes nothing", () => {
  it("a dry run never opens or resolves anything, and is not counted", async () => {
    const name = uniqueName("dry");
    await registerJob(name, { handler: "testBroken" });
    await trigger(name, { dry_run: true });
    await settled(name);
    expect(await alertsOf(name)).toEqual([]);
    const counters = await env.DB.prepare("SELECT count(*) AS n FROM run_counters WHERE job_name = ?").bind(name).first<{ n: number }>();
    expect(counters?.n).toBe(0);

    await trigger(name); // real: failing opens
    await settled(name);
    await call("PATCH", `/jobs/${name}`, { body: { handler: "testNoop" } });
    await trigger(name, { dry_run: true }); // succeeds, but a dry run
    await settled(name);
    expect((await alertsOf(name)).map((a) => a.resolved_at)).toEqual([null]);
  });

  it("alerts_enabled: false opens nothing", async () => {
    const name = uniqueName("quiet");
    await registerJob(name, { handler: "testBroken", alerts_enabled: false });
    await trigger(name);
    await settled(name);
    expect(await alertsOf(name)).toEqual([]);
    expect((await call("GET", `/jobs/${name}`)).json).toMatchObject({ alerts_enabled: false, open_alerts: [] });
  });
});

describe("reading alerts", () => {
  it("GET /alerts filters by state and job, newest first, a page at a time; /health and the job list them while open", async () => {
    const name = uniqueName("listed");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testFlaky", pause_after_failures: 1 });
    failNext(name, 1);
    const first = minuteFloor(clockNow()) + MINUTE;
    advanceClock(first - clockNow());
    await runInstant(name, first); // failing and paused_by_policy open
    const open = await call("GET", `/alerts?state=open&job_name=${name}`, { token: null });
    expect(open.status).toBe(200);
    expect(open.json.data.map((a: { kind: string }) => a.kind)).toEqual(["paused_by_policy", "failing"]);
    expect(open.json.data[1]).toMatchObject({ job_name: name, run_id: "run-0001", scheduled_for: new Date(first).toISOString().replace(".000Z", "Z"), resolved_at: null });

    const page1 = await call("GET", `/alerts?job_name=${name}&limit=1`);
    expect(page1.json.data).toHaveLength(1);
    const page2 = await call("GET", `/alerts?job_name=${name}&limit=1&cursor=${page1.json.next_cursor}`);
    expect(page2.json.data.map((a: { kind: string }) => a.kind)).toEqual(["failing"]);
    expect(page2.json.next_cursor).toBeNull();

    const health = await call("GET", "/health", { token: null });
    expect(health.json.alerts.open).toBeGreaterThanOrEqual(2);
    expect(health.json.alerts.listed.filter((a: { job_name: string }) => a.job_name === name)).toHaveLength(2);
    expect(health.json.problems.join(" ")).not.toContain(name); // a job's alert is not the service's fault

    // Resumed and on time again: both resolve.
    await call("PATCH", `/jobs/${name}`, { body: { is_active: true } });
    advanceClock(MINUTE);
    await runInstant(name, first + MINUTE);
    expect((await call("GET", `/alerts?state=open&job_name=${name}`)).json.data).toEqual([]);
    const resolved = await call("GET", `/alerts?state=resolved&job_name=${name}`);
    expect(resolved.json.data.map((a: { kind: string }) => a.kind)).toEqual(["paused_by_policy", "failing"]);
    expect((await noticesOf(name)).map((n) => n.kind).sort()).toEqual(["job.alert.opened", "job.alert.opened", "job.alert.resolved", "job.alert.resolved"]);
  });

  it("refuses a bad query with a 400 naming the field", async () => {
    const bad = await call("GET", "/alerts?state=closed&cursor=12");
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("state");
    expect(bad.json.error.message).toContain("cursor must be the next_cursor of the previous page");
  });
});

describe("the dashboard", () => {
  it("shows a banner on every page while any alert is open, and the job page its pause reason and alert history", async () => {
    const name = uniqueName("shown");
    await registerJob(name, { handler: "testBroken", pause_after_failures: 1 });
    await trigger(name);
    await settled(name);
    const pageOf = async (path: string) => (await call("GET", `https://scheduler.test${path}`, { token: null })).text;
    for (const path of ["/", "/deliveries", "/reports", `/jobs/${name}`]) {
      const html = await pageOf(path);
      expect(html, path).toContain('id="alert-banner"');
      expect(html, path).toMatch(/\d+ open alerts?:/);
    }
    const jobPage = await pageOf(`/jobs/${name}`);
    expect(jobPage).toContain('id="paused-by-policy"');
    expect(jobPage).toContain(`Paused by its policy (the system, not a person): ${name} was paused after 1 failed run(s) in a row`);
    expect(jobPage.match(/data-alert-state="open"/g)).toHaveLength(2); // failing and paused_by_policy

    await call("PATCH", `/jobs/${name}`, { body: { is_active: true, handler: "testNoop", cron_expression: "* * * * *" } });
    const due = minuteFloor(clockNow()) + MINUTE;
    advanceClock(due - clockNow());
    await runInstant(name, due);
    const after = await pageOf(`/jobs/${name}`);
    expect(after.match(/data-alert-state="resolved"/g)).toHaveLength(2);
    expect(after).not.toContain('id="paused-by-policy"');
  });
});

describe("the settings", () => {
  it("are accepted by POST and PATCH, shown on the job, and refused out of bounds with a 400 naming the field", async () => {
    const name = uniqueName("settings");
    expect((await registerJob(name)).status).toBe(201);
    expect((await call("GET", `/jobs/${name}`)).json).toMatchObject({
      start_deadline_seconds: 600,
      finish_deadline_seconds: null,
      alert_after_failures: 1,
      pause_after_failures: null,
      alerts_enabled: true,
    });
    const patched = await call("PATCH", `/jobs/${name}`, { body: { finish_deadline_seconds: 3600, pause_after_failures: 3, alerts_enabled: false } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ finish_deadline_seconds: 3600, pause_after_failures: 3, alerts_enabled: false, start_deadline_seconds: 600 });
    const cleared = await call("PATCH", `/jobs/${name}`, { body: { finish_deadline_seconds: null } });
    expect(cleared.json.finish_deadline_seconds).toBeNull();

    const tooSoon = await registerJob(uniqueName("bad"), { start_deadline_seconds: 5 });
    expect(tooSoon.status).toBe(400);
    expect(tooSoon.json.error.message).toContain("start_deadline_seconds");
    const bad = await call("PATCH", `/jobs/${name}`, { body: { alert_after_failures: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("alert_after_failures");
    expect((await call("GET", `/jobs/${name}`)).json.alert_after_failures).toBe(1);
  });
});
