import { createExecutionContext, createScheduledController, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { clock } from "../src/lib/clock";
import worker from "../src/index";
import { RUN_CAPS } from "../src/services/retention";
const RUNS_KEPT_PER_JOB = RUN_CAPS.real;
import { call, registerJob, uniqueName } from "./helpers/api";
import { freezeClock } from "./helpers/clock";
import { alarmFor, fireAlarm, inspect, jobRow, MINUTE, minuteFloor, runsOf, schedulerOf, setNext, settled } from "./helpers/scheduler";

beforeEach(() => freezeClock());
const supervisor = () => env.SUPERVISOR.getByName("supervisor");
const clockNow = () => clock.now().getTime();

/** Names sorting before every other job, and a reset cursor, put a job in the next pass's inspection window. */
async function firstInWindow(prefix: string): Promise<string> {
  await runInDurableObject(supervisor(), (_instance, state) => {
    state.storage.kv.put("cursor", "");
  });
  return `000-${uniqueName(prefix)}`;
}

async function loseAlarm(name: string) {
  await runInDurableObject(schedulerOf(name), async (_instance, state) => {
    await state.storage.deleteAlarm();
  });
}

describe("self-repair", () => {
  it("re-arms an active job whose alarm is gone", async () => {
    const name = await firstInWindow("lost");
    await registerJob(name, { cron_expression: "0 3 * * *", handler: "testNoop" });
    const before = await inspect(name);
    await loseAlarm(name);
    expect((await inspect(name)).alarmAt).toBeNull();

    const report = await supervisor().runPass();
    expect(report.repaired).toContainEqual({ job_name: name, repairs: ["re-armed: alarm was missing"] });
    expect((await inspect(name)).alarmAt).toBe(alarmFor(before.nextRunAt));
  });

  it("fires an overdue job once (misfire policy), and moves next_run_at to the future", async () => {
    const name = uniqueName("overdue");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
    // The alarm "never fired" (cloudflare-docs#18324): stored next is an hour old and nothing is set.
    const stale = minuteFloor(clockNow()) - 60 * MINUTE;
    await setNext(name, stale);
    await loseAlarm(name);
    await env.DB.prepare("UPDATE jobs SET next_run_at = ? WHERE job_name = ?").bind(new Date(stale).toISOString(), name).run();

    const report = await supervisor().runPass();
    expect(report.repaired).toContainEqual({ job_name: name, repairs: ["re-armed: next run was overdue"] });
    expect(await fireAlarm(name)).toBe(true);
    const runs = await runsOf(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.catch_up).toBe(1);
    expect(Date.parse(String((await jobRow(name))?.next_run_at))).toBeGreaterThan(clockNow());
  });

  it("arms a job that D1 has but its object never heard of", async () => {
    const name = uniqueName("unarmed");
    // As the migration inserts the built-in jobs: a row, no next_run_at, no object state.
    await env.DB.prepare(
      "INSERT INTO jobs (job_name, cron_expression, timezone, handler, is_active, created_at, updated_at) VALUES (?, '0 5 * * *', 'UTC', 'testNoop', 1, ?, ?)",
    )
      .bind(name, new Date(clockNow()).toISOString(), new Date(clockNow()).toISOString())
      .run();
    const report = await supervisor().runPass();
    expect(report.repaired).toContainEqual({ job_name: name, repairs: ["armed: job had no schedule"] });
    const job = await jobRow(name);
    expect(job?.next_run_at).not.toBeNull();
    expect((await inspect(name)).alarmAt).toBe(alarmFor(job?.next_run_at));
  });

  it("disarms an object whose job is paused in D1", async () => {
    const name = await firstInWindow("stale");
    await registerJob(name, { handler: "testNoop" });
    // A pause whose call to the object was lost.
    await env.DB.prepare("UPDATE jobs SET is_active = 0, next_run_at = NULL WHERE job_name = ?").bind(name).run();
    expect((await inspect(name)).alarmAt).not.toBeNull();
    const report = await supervisor().runPass();
    expect(report.repaired).toContainEqual({ job_name: name, repairs: ["disarmed: job is deleted or paused in D1"] });
    expect((await inspect(name)).alarmAt).toBeNull();
  });

  it("an object whose job was deleted from D1 behind its back writes no run for it and disarms itself at its next run", async () => {
    const name = uniqueName("orphan");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
    // A row deleted without going through the API (the API removes the object's schedule first).
    await env.DB.prepare("DELETE FROM jobs WHERE job_name = ?").bind(name).run();
    const due = minuteFloor(clockNow());
    await setNext(name, due);
    await fireAlarm(name);
    // The run's record (one batch, at its end) finds the job gone: no run row is written for
    // a job that no longer exists, and the object repairs itself from a fresh read.
    expect(await settled(name)).toHaveLength(0);
    const state = await inspect(name);
    expect(state.config).toBeNull();
    expect(state.alarmAt).toBeNull();
    expect(await jobRow(name)).toBeNull(); // never resurrected
    await setNext(name, due + MINUTE);
    expect(await fireAlarm(name)).toBe(false);
    expect(await runsOf(name)).toHaveLength(0);
  });

  it("prunes run history beyond the retention limit, keeping the newest and anything running", async () => {
    const name = await firstInWindow("retention");
    await registerJob(name, { handler: "testNoop" });
    const job = await jobRow(name);
    const insert = env.DB.prepare(
      "INSERT INTO runs (job_id, job_name, run_no, triggered_by, status, attempts, started_at) VALUES (?1, ?2, (SELECT coalesce(max(run_no), 0) + 1 FROM runs WHERE job_id = ?1), 'seed', ?3, 1, ?4)",
    );
    const statements = [insert.bind(job!.job_id, name, "running", new Date(clockNow() - 10 * MINUTE).toISOString())];
    for (let i = 0; i < RUNS_KEPT_PER_JOB + 30; i++) statements.push(insert.bind(job!.job_id, name, "success", new Date(clockNow()).toISOString()));
    await env.DB.batch(statements);
    const newest = (await runsOf(name)).slice(-RUNS_KEPT_PER_JOB).map((r) => r.seq);

    const report = await supervisor().runPass();
    expect(report.pruned_runs).toBeGreaterThanOrEqual(30);
    const left = await runsOf(name);
    expect(left.filter((r) => r.status === "success").map((r) => r.seq)).toEqual(newest);
    expect(left.filter((r) => r.status === "running")).toHaveLength(1);
  });

  it("runs from the Cron Trigger too, records the pass, and keeps its own alarm set", async () => {
    const controller = createScheduledController({ scheduledTime: clockNow(), cron: "*/5 * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    const last = await supervisor().lastPass();
    expect(last?.at).toBe(new Date(clockNow()).toISOString());
    const alarm = await runInDurableObject(supervisor(), (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now());
  });
});

describe("the built-in jobs on a fresh start", () => {
  it("are armed by the first request, with no API call needed", async () => {
    await call("GET", "/jobs/certification-expiry-nightly");
    const state = await inspect("certification-expiry-nightly");
    expect(state.config?.handler).toBe("checkCertificationExpiry");
    expect(state.alarmAt).toBe(alarmFor(state.nextRunAt));
    expect(new Date(state.nextRunAt!).getUTCHours()).toBe(2);
  });
});
