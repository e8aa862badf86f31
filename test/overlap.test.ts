import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { clock } from "../src/lib/clock";
import { call, registerJob, uniqueName } from "./helpers/api";
import { advanceClock, freezeClock } from "./helpers/clock";
import { alarmFor, editRunning, fireAlarm, inspect, jobRow, minuteFloor, runsOf, setNext, settled } from "./helpers/scheduler";
import { calls, gate } from "./helpers/test-handlers";
import { MAX_RESUMES, STEP_CHECK_MS } from "../src/scheduler/alarm-plan";

beforeEach(() => freezeClock());
const clockNow = () => clock.now().getTime();
const trigger = (name: string, body: unknown = {}) => call("POST", `/jobs/${name}/trigger`, { body });
const started = (name: string, count = 1) => vi.waitFor(() => expect(calls.get(name)).toBe(count), { timeout: 5_000, interval: 5 });

describe("overlap_policy skip (the default)", () => {
  it("refuses a manual trigger while a run is in progress, naming the running run", async () => {
    const name = uniqueName("busy");
    await registerJob(name, { handler: "testGated" });
    const release = gate(name);
    const first = await trigger(name);
    expect(first.status).toBe(202);
    await started(name);

    const second = await trigger(name, { triggered_by: "impatient" });
    expect(second.status).toBe(409);
    expect(second.json.error.code).toBe("run_in_progress");
    expect(second.json.error.message).toContain(first.json.run_id);
    expect(second.json.error.details.running_run_id).toBe(first.json.run_id);

    release();
    await settled(name);
    expect(await runsOf(name)).toHaveLength(1);
    expect((await trigger(name)).status).toBe(202); // free again once it finished
  });

  it("records a scheduled instant that comes while a run is in progress as skipped", async () => {
    const name = uniqueName("overlap-skip");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testGated" });
    const release = gate(name);
    const running = await trigger(name);
    await started(name);
    const due = minuteFloor(clockNow());
    await setNext(name, due);
    await fireAlarm(name);

    const runs = await runsOf(name);
    const skipped = runs.find((r) => r.scheduled_for === new Date(due).toISOString());
    expect(skipped).toMatchObject({ status: "skipped", triggered_by: "scheduler" });
    expect(skipped!.error).toContain(running.json.run_id);
    expect(calls.get(name)).toBe(1);
    expect(Date.parse((await inspect(name)).nextRunAt!)).toBeGreaterThan(clockNow());
    release();
    await settled(name);
  });

  it("under a burst of simultaneous triggers accepts exactly one and records it once", async () => {
    const name = uniqueName("burst-skip");
    await registerJob(name, { handler: "testGated" });
    const release = gate(name);
    const answers = await Promise.all(Array.from({ length: 15 }, (_, i) => trigger(name, { triggered_by: `op-${i}` })));
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 409);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(14);
    for (const r of refused) expect(r.json.error.details.running_run_id).toBe(accepted[0]!.json.run_id);
    release();
    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe("success");
  });
});

describe("overlap_policy allow", () => {
  it("under a burst, every accepted trigger has exactly one run record and none is recorded twice", async () => {
    const name = uniqueName("burst-allow");
    await registerJob(name, { handler: "testGated", overlap_policy: "allow" });
    const release = gate(name);
    const answers = await Promise.all(Array.from({ length: 15 }, () => trigger(name)));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const ids = answers.map((a) => a.json.run_id);
    expect(new Set(ids).size).toBe(15);
    await started(name, 15);
    release();
    const runs = await settled(name);
    expect(runs).toHaveLength(15);
    expect(runs.map((r) => `run-${String(r.run_no).padStart(4, "0")}`).sort()).toEqual([...ids].sort());
    expect(runs.every((r) => r.status === "success")).toBe(true);
  });
});

describe("a run whose object died mid-run", () => {
  it("is closed as failed after timeout_seconds, with an error that says why", async () => {
    const name = uniqueName("hung");
    await registerJob(name, { handler: "testGated", timeout_seconds: 30 });
    const release = gate(name);
    const run = await trigger(name);
    await started(name);
    const state = await inspect(name);
    const [going] = state.running;
    // The alarm watches the step: it looks whether its instance is still there before the deadline comes.
    expect(Date.parse(state.alarmAt!)).toBe(Math.min(going!.deadlineAt!, going!.inFlight!.since + STEP_CHECK_MS));

    advanceClock(30_000);
    await fireAlarm(name);
    const [closed] = await runsOf(name);
    expect(closed).toMatchObject({ status: "failed" });
    expect(closed!.error).toMatch(/timed out.*timeout_seconds=30/);
    expect((await jobRow(name))?.last_run_status).toBe("failed");
    expect((await inspect(name)).running).toHaveLength(0);
    // The job is free again, and the hung attempt finishing later changes nothing.
    const next = await trigger(name);
    expect(next.status).toBe(202);
    release();
    await settled(name);
    const runs = await runsOf(name);
    expect(runs.find((r) => `run-${String(r.run_no).padStart(4, "0")}` === run.json.run_id)?.status).toBe("failed");
  });

  it("survives a restart: a step left going by a gone instance starts again, and the run completes once", async () => {
    const name = uniqueName("restarted");
    await registerJob(name, { handler: "testGated", timeout_seconds: 60 });
    const release = gate(name);
    await trigger(name);
    await started(name);
    // Simulate the restart: the stored step names an instance of the object that is gone.
    await editRunning(name, (entry) => ({ ...entry, inFlight: { ...entry.inFlight!, owner: "a-gone-instance" }, deadlineAt: clockNow() - 1 }));
    await fireAlarm(name);
    await vi.waitFor(() => expect(calls.get(name)).toBe(2)); // started again, its deadline renewed
    expect((await inspect(name)).running[0]).toMatchObject({ resumes: 1 });
    release();
    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "success", run_no: 1 });
  });

  it(`a step that keeps dying with its instance is failed after ${MAX_RESUMES} restarts, not started forever`, async () => {
    const name = uniqueName("crashloop");
    await registerJob(name, { handler: "testGated" });
    gate(name); // never released
    await trigger(name);
    await started(name);
    await editRunning(name, (entry) => ({ ...entry, inFlight: { ...entry.inFlight!, owner: "a-gone-instance" }, resumes: MAX_RESUMES }));
    await fireAlarm(name);
    const [run] = await runsOf(name);
    expect(run).toMatchObject({ status: "failed" });
    expect(run!.error).toMatch(new RegExp(`restarted ${MAX_RESUMES} times during one step`));
  });
});

describe("delete while a run is in progress", () => {
  it("the run finishes and is recorded, nothing re-arms the job, and the name can be registered again", async () => {
    const name = uniqueName("del-running");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testGated" });
    const release = gate(name);
    await trigger(name);
    await started(name);

    const deleted = await call("DELETE", `/jobs/${name}`);
    expect(deleted.status).toBe(200);
    release();
    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe("success");
    const state = await inspect(name);
    expect(state.config).toBeNull();
    expect(state.alarmAt).toBeNull();
    expect(state.running).toHaveLength(0);
    expect(await fireAlarm(name)).toBe(false);

    const again = await registerJob(name, { cron_expression: "0 4 * * *", handler: "testNoop" });
    expect(again.status).toBe(201);
    expect((await call("GET", `/jobs/${name}/last-result`)).status).toBe(404); // a new registration has no runs yet
    expect((await inspect(name)).alarmAt).toBe(alarmFor(again.json.next_run_at));
    // The old run stays in history (D1), under the old registration.
    const { results } = await env.DB.prepare("SELECT status FROM runs WHERE job_name = ?").bind(name).all();
    expect(results).toEqual([{ status: "success" }]);
  });
});

describe("registration race", () => {
  it("20 simultaneous registrations of one job_name: exactly one 201 and nineteen 409", async () => {
    const name = uniqueName("race");
    const answers = await Promise.all(Array.from({ length: 20 }, () => registerJob(name, { handler: "testNoop" })));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    const conflicts = answers.filter((a) => a.status === 409);
    expect(conflicts).toHaveLength(19);
    expect(conflicts[0]!.json.error.code).toBe("job_exists");
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM jobs WHERE job_name = ?").bind(name).all<{ n: number }>();
    expect(results[0]!.n).toBe(1);
    const audit = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE job_name = ? AND action = 'register'").bind(name).first<{ n: number }>();
    expect(audit!.n).toBe(1);
  });
});
