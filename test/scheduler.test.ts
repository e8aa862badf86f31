import { runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { call, registerJob, uniqueName } from "./helpers/api";
import { clock } from "../src/lib/clock";
import { advanceClock, freezeClock, holdSleeps, setClock } from "./helpers/clock";
import { alarmFor, FIRE_LEAD_MS, fireAlarm, holdNextBatch, inspect, jobRow, MINUTE, minuteFloor, rewriteStorage, runsOf, schedulerOf, setNext, settled } from "./helpers/scheduler";
import { calls, failNext, gate } from "./helpers/test-handlers";
import { JOB_STATE_KEY } from "../src/scheduler/alarm-plan";
import { ADMIT_AFTER_MS } from "../src/scheduler/run-executor";

// The clock is frozen years ahead (FROZEN_START): no alarm set here comes due
// by itself, so only the alarms a test fires run.
beforeEach(() => freezeClock());
const clockNow = () => clock.now().getTime();

/** A cron whose only instant each hour is ~30 minutes away from now, so nothing is ever "on time". */
function cronHalfAnHourAway(): string {
  const minute = (clock.now().getUTCMinutes() + 30) % 60;
  return `${minute} * * * *`;
}

describe("the object's memory", () => {
  it("holds exactly what it stored, through registration, a run in progress, a PATCH, the record and a deletion", async () => {
    const name = uniqueName("memory");
    const matchesStorage = async () => {
      const { memory, stored } = await runInDurableObject(schedulerOf(name), (instance) => instance.memoryAndStorage());
      expect(memory).toEqual(stored);
      return memory;
    };
    await registerJob(name, { cron_expression: "* * * * *", handler: "testGated" });
    expect((await matchesStorage()).state.config?.jobName).toBe(name);
    const release = gate(name);
    await setNext(name, minuteFloor(clockNow()));
    await fireAlarm(name);
    await vi.waitFor(() => expect(calls.get(name)).toBe(1));
    expect((await matchesStorage()).running).toHaveLength(1);
    expect((await call("PATCH", `/jobs/${name}`, { body: { max_retries: 2 } })).status).toBe(200);
    expect((await matchesStorage()).running[0]?.final).toBe(false);
    release();
    expect(await settled(name)).toHaveLength(1);
    expect((await matchesStorage()).running).toHaveLength(0);
    expect((await call("DELETE", `/jobs/${name}`)).status).toBe(200);
    expect((await matchesStorage()).state.config).toBeNull();
  });
});

describe("the alarm runs the job", () => {
  it("runs a due instant, records it, and moves next_run_at and the alarm one minute on", async () => {
    const name = uniqueName("alarm");
    expect((await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" })).status).toBe(201);
    const due = minuteFloor(clockNow());
    await setNext(name, due);

    expect(await fireAlarm(name)).toBe(true);
    const runs = await settled(name);

    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "success", scheduled_for: new Date(due).toISOString(), triggered_by: "scheduler", catch_up: 0 });
    const job = await jobRow(name);
    expect(job?.last_run_status).toBe("success");
    expect(job?.last_run_seq).toBe(runs[0]!.seq);
    const nextRunAt = Date.parse(String(job?.next_run_at));
    expect(nextRunAt).toBeGreaterThan(clockNow());
    expect(nextRunAt % MINUTE).toBe(0);
    const state = await inspect(name);
    expect(state.nextRunAt).toBe(new Date(nextRunAt).toISOString());
    expect(state.alarmAt).toBe(alarmFor(state.nextRunAt));

    const listed = await call("GET", "/jobs?limit=100");
    const item = listed.json.data.find((j: { job_name: string }) => j.job_name === name);
    expect(item.last_run_status).toBe("success");
    expect(item.last_run_at).toBe(new Date(Date.parse(String(job?.last_run_at))).toISOString().replace(/\.\d{3}Z$/, "Z"));
  });

  it("never runs one instant twice, however often its alarm fires", async () => {
    const name = uniqueName("once");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
    const due = minuteFloor(clockNow());
    await setNext(name, due);
    await fireAlarm(name);
    await settled(name);
    // The platform retries an alarm, or the object restarts mid-run: the same instant comes due again.
    await setNext(name, due);
    await fireAlarm(name);
    await rewriteStorage(name, (kv) => kv.put(JOB_STATE_KEY, { ...kv.get<object>(JOB_STATE_KEY), next: due })); // and a restart
    await fireAlarm(name);
    const runs = await settled(name);
    expect(runs.filter((r) => r.scheduled_for === new Date(due).toISOString())).toHaveLength(1);
    expect(calls.get(name)).toBe(1);
  });

  it("an object that takes on a registration with runs (repair after its state was lost) learns its run count then, not at the next run", async () => {
    const name = uniqueName("adopted");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
    expect((await call("POST", `/jobs/${name}/trigger`, { body: {} })).json.run_id).toBe("run-0001");
    await settled(name);
    await rewriteStorage(name, (kv) => kv.delete(JOB_STATE_KEY)); // the object's state lost, D1 kept
    expect(await schedulerOf(name).reconcile(name)).toContain("armed: job had no schedule");
    const stored = await runInDurableObject(schedulerOf(name), (_instance, state) => state.storage.kv.get<{ runSeq?: number }>(JOB_STATE_KEY));
    expect(stored?.runSeq).toBe(1);
    expect((await call("POST", `/jobs/${name}/trigger`, { body: {} })).json.run_id).toBe("run-0002");
    expect((await settled(name)).map((r) => r.run_no)).toEqual([1, 2]);
  });

  it("an object that predates run numbering continues its job's run ids from D1", async () => {
    const name = uniqueName("numbering");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
    expect((await call("POST", `/jobs/${name}/trigger`, { body: {} })).json.run_id).toBe("run-0001");
    await settled(name);
    // Rewrite its storage as the build before numbering kept it: no run count.
    await rewriteStorage(name, (kv) => {
      const { runSeq: _dropped, ...stored } = kv.get<Record<string, unknown>>(JOB_STATE_KEY)!;
      kv.put(JOB_STATE_KEY, { ...stored, next: minuteFloor(clockNow()) });
    });
    await fireAlarm(name);
    const runs = await settled(name);
    expect(runs.map((r) => r.run_no)).toEqual([1, 2]);
    expect(runs[1]).toMatchObject({ status: "success", scheduled_for: new Date(minuteFloor(clockNow())).toISOString() });
  });

  it("an inactive job has no alarm and never fires", async () => {
    const name = uniqueName("inactive");
    const created = await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop", is_active: false });
    expect(created.json.next_run_at).toBeNull();
    const state = await inspect(name);
    expect(state.alarmAt).toBeNull();
    expect(state.nextRunAt).toBeNull();
    expect(await fireAlarm(name)).toBe(false);
    expect(await runsOf(name)).toHaveLength(0);
  });

  it("a scheduled run that throws is recorded as failed and the job keeps its schedule", async () => {
    const name = uniqueName("broken");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testBroken" });
    await setNext(name, minuteFloor(clockNow()));
    await fireAlarm(name);
    const [run] = await settled(name);
    expect(run).toMatchObject({ status: "failed", error: "the handler broke on purpose", attempts: 1 });
    const last = await call("GET", `/jobs/${name}/last-result`);
    // Issue 14: with a key, the raw error is error_detail; `error` is the stable code and safe message.
    expect(last.json).toMatchObject({ status: "failed", error: { code: "handler_failed" }, error_detail: "the handler broke on purpose" });
    const state = await inspect(name);
    expect(Date.parse(state.nextRunAt!)).toBeGreaterThan(clockNow());
    expect(state.alarmAt).toBe(alarmFor(state.nextRunAt));
  });
});

describe("the alarm wakes the object FIRE_LEAD_MS early and the run starts on its instant", () => {
  it("the lead is on, and the alarm is set that long before the next instant", async () => {
    expect(FIRE_LEAD_MS).toBeGreaterThan(0);
    const name = uniqueName("lead");
    const created = await registerJob(name, { cron_expression: "*/5 * * * *", handler: "testNoop" });
    expect(Date.parse((await inspect(name)).alarmAt!)).toBe(Date.parse(created.json.next_run_at) - FIRE_LEAD_MS);
  });

  it("an alarm that comes early waits out the rest, then runs with started_at on the instant", async () => {
    const name = uniqueName("early");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
    const instant = minuteFloor(clockNow()) + MINUTE;
    await setNext(name, instant);
    setClock(instant - 400); // the alarm came 400 ms before the instant (within the lead)

    await fireAlarm(name);
    const runs = await settled(name);

    expect(clockNow()).toBe(instant); // it waited exactly the 400 ms (the frozen clock moves by a wait)
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "success", scheduled_for: new Date(instant).toISOString(), catch_up: 0 });
    expect(Date.parse(String((runs[0] as unknown as { started_at: string }).started_at))).toBe(instant);
    expect((await inspect(name)).alarmAt).toBe(alarmFor(new Date(instant + MINUTE).toISOString()));
  });

  it("an alarm earlier than the lead waits for nothing and runs nothing: it re-arms", async () => {
    const name = uniqueName("tooearly");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
    const instant = minuteFloor(clockNow()) + MINUTE;
    await setNext(name, instant);
    const at = instant - FIRE_LEAD_MS - 5_000;
    setClock(at);

    await fireAlarm(name);

    expect(clockNow()).toBe(at);
    expect(await runsOf(name)).toHaveLength(0);
    expect((await inspect(name)).alarmAt).toBe(alarmFor(new Date(instant).toISOString()));
  });

  it("a retry that is due is not held back by a wait for an instant within the lead", async () => {
    const name = uniqueName("retrylead");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testFlaky", max_retries: 1, overlap_policy: "allow" });
    failNext(name, 1);
    await call("POST", `/jobs/${name}/trigger`, { body: {} });
    const retryAt = (await waitForRetry(name)).running[0]!.retryAt!;
    await setNext(name, retryAt + FIRE_LEAD_MS / 2); // an instant comes half a lead after the retry
    setClock(retryAt);

    await fireAlarm(name);

    expect(clockNow()).toBe(retryAt); // no wait: the retry started on time
    const [run] = await settled(name);
    expect(run).toMatchObject({ status: "success", attempts: 2 });
  });

  it("a cron change during the wait that keeps the instant: the run arms the new cron's following instant", async () => {
    const name = uniqueName("cronwait");
    await registerJob(name, { cron_expression: "0 * * * *", handler: "testNoop" });
    const HOUR = 60 * MINUTE;
    const instant = Math.floor(clockNow() / HOUR) * HOUR + HOUR;
    await setNext(name, instant);
    setClock(instant - 300);
    const wait = holdSleeps();

    const alarm = fireAlarm(name);
    await vi.waitFor(() => expect(wait.entered).toBe(true));
    const patched = await call("PATCH", `/jobs/${name}`, { body: { cron_expression: "0,30 * * * *" } });
    expect(patched.json.next_run_at).toBe(new Date(instant).toISOString().replace(".000Z", "Z")); // the same instant
    wait.release();
    await alarm;

    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.scheduled_for).toBe(new Date(instant).toISOString());
    expect((await inspect(name)).nextRunAt).toBe(new Date(instant + 30 * MINUTE).toISOString());
  });

  it("the wait holds no lock: a pause during it is answered at once, and the instant then does not run", async () => {
    const name = uniqueName("pausewait");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
    const instant = minuteFloor(clockNow()) + MINUTE;
    await setNext(name, instant);
    setClock(instant - 300);
    const wait = holdSleeps(); // the object's wait stays open until the test releases it

    const alarm = fireAlarm(name);
    await vi.waitFor(() => expect(wait.entered).toBe(true));
    const paused = await call("PATCH", `/jobs/${name}`, { body: { is_active: false } }); // while the alarm waits
    expect(paused.status).toBe(200);
    expect(paused.json.next_run_at).toBeNull();
    expect(wait.released).toBe(false);
    wait.release();
    await alarm;

    expect(clockNow()).toBe(instant);
    expect(await runsOf(name)).toHaveLength(0);
    expect(calls.get(name)).toBeUndefined();
    expect((await inspect(name)).alarmAt).toBeNull();
  });
});

describe("missed runs", () => {
  it("run_once: three hours down gives exactly one catch-up run, then normal scheduling", async () => {
    const name = uniqueName("catchup");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
    await setNext(name, minuteFloor(clockNow()) - 3 * 60 * MINUTE);
    await fireAlarm(name);
    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "success", catch_up: 1, scheduled_for: new Date(minuteFloor(clockNow())).toISOString() });
    const state = await inspect(name);
    expect(Date.parse(state.nextRunAt!)).toBeGreaterThan(clockNow());

    // Normal scheduling afterwards: time moves to the next instant, which runs as usual.
    const next = Date.parse(state.nextRunAt!);
    setClock(next + 5);
    await fireAlarm(name);
    const after = await settled(name);
    expect(after).toHaveLength(2);
    expect(after[1]!.catch_up).toBe(0);
  });

  it("run_once: when no instant is on time, one catch-up run for the latest missed instant", async () => {
    const name = uniqueName("late");
    const cron = cronHalfAnHourAway();
    await registerJob(name, { cron_expression: cron, handler: "testNoop" });
    await setNext(name, clockNow() - 5 * 60 * MINUTE);
    await fireAlarm(name);
    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "success", catch_up: 1 });
    const lateness = clockNow() - Date.parse(runs[0]!.scheduled_for!);
    expect(lateness).toBeGreaterThan(MINUTE);
    expect(lateness).toBeLessThanOrEqual(60 * MINUTE);
  });

  it("skip: missed instants are recorded as skipped, not run", async () => {
    const name = uniqueName("skipmiss");
    await registerJob(name, { cron_expression: cronHalfAnHourAway(), handler: "testNoop", misfire_policy: "skip" });
    await setNext(name, clockNow() - 5 * 60 * MINUTE);
    await fireAlarm(name);
    const runs = await runsOf(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe("skipped");
    expect(runs[0]!.error).toMatch(/misfire_policy is "skip"/);
    expect(calls.get(name)).toBeUndefined();
    expect(Date.parse((await inspect(name)).nextRunAt!)).toBeGreaterThan(clockNow());
    // A skipped instant is not an execution: there is still no last result.
    expect((await call("GET", `/jobs/${name}/last-result`)).status).toBe(404);
  });

  it("run_once: an instant older than catchup_window_seconds is not caught up", async () => {
    const name = uniqueName("window");
    await registerJob(name, { cron_expression: cronHalfAnHourAway(), handler: "testNoop", catchup_window_seconds: 60 });
    await setNext(name, clockNow() - 5 * 60 * MINUTE);
    await fireAlarm(name);
    const runs = await runsOf(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe("skipped");
    expect(runs[0]!.error).toMatch(/catchup_window_seconds=60/);
    expect(calls.get(name)).toBeUndefined();
  });
});

describe("retries", () => {
  it("retries a failing handler within the same run, with backoff, and records attempts", async () => {
    const name = uniqueName("retry");
    await registerJob(name, { cron_expression: "0 3 * * *", handler: "testFlaky", max_retries: 2 });
    const nextBefore = (await inspect(name)).nextRunAt;
    failNext(name, 2);
    const triggered = await call("POST", `/jobs/${name}/trigger`, { body: { triggered_by: "tester" } });
    expect(triggered.status).toBe(202);

    // Attempt 1 fails; the retry waits for its backoff (1 s), kept in storage and on the alarm.
    let state = await waitForRetry(name);
    expect(state.running[0]!.attempts).toBe(1);
    expect(state.running[0]!.retryAt! - clockNow()).toBe(1000);
    expect(Date.parse(state.alarmAt!)).toBe(state.running[0]!.retryAt);

    advanceClock(1000); // backoff over: attempt 2, fails again, backoff 2 s
    await fireAlarm(name);
    state = await waitForRetry(name, 2);
    expect(state.running[0]!.retryAt! - clockNow()).toBe(2000);
    advanceClock(1999); // not yet: the alarm starts nothing early
    await fireAlarm(name);
    expect((await inspect(name)).running[0]!.attempts).toBe(2);
    advanceClock(1);
    await fireAlarm(name); // attempt 3 succeeds

    const [run] = await settled(name);
    expect(run).toMatchObject({ status: "success", attempts: 3, triggered_by: "tester" });
    expect(calls.get(name)).toBe(3);
    expect((await inspect(name)).nextRunAt).toBe(nextBefore);
  });

  it("a run that fails for good is failed after 1 + max_retries attempts; the next instant is unaffected", async () => {
    const name = uniqueName("giveup");
    await registerJob(name, { cron_expression: "0 3 * * *", handler: "testBroken", max_retries: 1 });
    const nextBefore = (await inspect(name)).nextRunAt;
    await call("POST", `/jobs/${name}/trigger`, { body: {} });
    await waitForRetry(name);
    advanceClock(1000);
    await fireAlarm(name);
    const [run] = await settled(name);
    expect(run).toMatchObject({ status: "failed", attempts: 2, error: "the handler broke on purpose" });
    const state = await inspect(name);
    expect(state.running).toHaveLength(0);
    expect(state.nextRunAt).toBe(nextBefore);
    expect(state.alarmAt).toBe(alarmFor(nextBefore));
  });
});

async function waitForRetry(name: string, attempts = 1) {
  return vi.waitFor(
    async () => {
      const state = await inspect(name);
      if (state.running[0]?.retryAt == null || state.running[0].attempts !== attempts) throw new Error("no retry yet");
      return state;
    },
    { timeout: 5_000, interval: 10 },
  );
}

/** Hourly at the frozen clock's minute: due now, next an hour away, whatever second the test starts at. */
const thisMinuteHourly = () => `${clock.now().getUTCMinutes()} * * * *`;

describe("a scheduled run is written to D1 once, when it ends, unless it takes a while", () => {
  it("a short run: nothing in D1 while it goes, one finished record after", async () => {
    const name = uniqueName("short");
    await registerJob(name, { cron_expression: thisMinuteHourly(), handler: "testGated" });
    const release = gate(name);
    await setNext(name, minuteFloor(clockNow()));
    await fireAlarm(name);
    await vi.waitFor(() => expect(calls.get(name)).toBe(1));
    expect(await runsOf(name)).toHaveLength(0);
    // Its run_id is known from the start, though nothing is in D1 yet.
    expect((await inspect(name)).running[0]).toMatchObject({ runId: "run-0001", scheduledFor: new Date(minuteFloor(clockNow())).toISOString() });
    release();
    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "success", attempts: 1 });
  });

  it(`a run still going after ${ADMIT_AFTER_MS / 1000} s shows as running, then is finished in place`, async () => {
    const name = uniqueName("long");
    await registerJob(name, { cron_expression: thisMinuteHourly(), handler: "testGated" });
    const release = gate(name);
    const due = minuteFloor(clockNow());
    await setNext(name, due);
    await fireAlarm(name);
    await vi.waitFor(() => expect(calls.get(name)).toBe(1));
    expect(Date.parse((await inspect(name)).alarmAt!)).toBe(clockNow() + ADMIT_AFTER_MS); // before the next instant

    advanceClock(ADMIT_AFTER_MS);
    await fireAlarm(name);
    const [running] = await runsOf(name);
    expect(running).toMatchObject({ status: "running", scheduled_for: new Date(due).toISOString() });
    expect((await jobRow(name))?.last_run_status).toBe("running");
    expect((await call("GET", `/jobs/${name}/last-result`)).json).toMatchObject({ status: "running", run_id: "run-0001" });

    release();
    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ seq: running!.seq, status: "success" });
    expect((await jobRow(name))?.last_run_status).toBe("success");
  });

  it("a manual trigger refused by overlap names the scheduled run in progress by its run_id", async () => {
    const name = uniqueName("named");
    await registerJob(name, { cron_expression: thisMinuteHourly(), handler: "testGated" });
    const release = gate(name);
    await setNext(name, minuteFloor(clockNow()));
    await fireAlarm(name);
    await vi.waitFor(() => expect(calls.get(name)).toBe(1));
    const refused = await call("POST", `/jobs/${name}/trigger`, { body: {} });
    expect(refused.status).toBe(409);
    expect(refused.json.error.details.running_run_id).toBe("run-0001");
    expect(await runsOf(name)).toHaveLength(0); // named without writing it to D1: the owner gave it its id
    release();
    expect(await settled(name)).toHaveLength(1);
  });

  it("a schedule change that comes while a run's record is on its way to D1 waits its turn and keeps its next_run_at", async () => {
    const name = uniqueName("recordrace");
    await registerJob(name, { cron_expression: thisMinuteHourly(), handler: "testNoop" });
    const due = minuteFloor(clockNow());
    await setNext(name, due);
    const record = await holdNextBatch(name);

    await fireAlarm(name);
    await vi.waitFor(() => expect(record.entered).toBe(true)); // the record holds next_run_at = due + 1 h
    const patching = call("PATCH", `/jobs/${name}`, { body: { cron_expression: cronHalfAnHourAway() } });
    record.release();
    const patched = await patching;
    expect(patched.status).toBe(200);
    const moved = patched.json.next_run_at as string;
    expect(Date.parse(moved)).not.toBe(due + 60 * MINUTE);
    const runs = await settled(name);

    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "success", scheduled_for: new Date(due).toISOString() });
    const job = await jobRow(name);
    expect(Date.parse(String(job?.next_run_at))).toBe(Date.parse(moved));
    expect((await inspect(name)).nextRunAt).toBe(new Date(Date.parse(moved)).toISOString());
    expect(job?.last_run_status).toBe("success");
  });

  it("a scheduled run whose object died before anything reached D1 is recorded as failed at its timeout", async () => {
    const name = uniqueName("lost");
    await registerJob(name, { cron_expression: thisMinuteHourly(), handler: "testGated", timeout_seconds: 5 });
    gate(name); // never released
    await setNext(name, minuteFloor(clockNow()));
    await fireAlarm(name);
    await vi.waitFor(() => expect(calls.get(name)).toBe(1));
    advanceClock(5_000);
    await fireAlarm(name);
    const [run] = await runsOf(name);
    expect(run).toMatchObject({ status: "failed", triggered_by: "scheduler" });
    expect(run!.error).toMatch(/timeout_seconds=5/);
  });
});
