import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { call, registerJob, uniqueName } from "./helpers/api";
import { clock } from "../src/lib/clock";
import { freezeClock } from "./helpers/clock";
import type { Hold } from "./helpers/hold";
import {
  fireAlarm,
  holdNextBatch,
  holdNextStatement,
  inspect,
  jobRow,
  MINUTE,
  minuteFloor,
  runsOf,
  schedulerOf,
  setNext,
  settled,
} from "./helpers/scheduler";
import { calls, failNext, gate } from "./helpers/test-handlers";

/**
 * Issue 10: every change to a job is decided by its one owner (the job's
 * Durable Object), one at a time, from a fresh read. Each race below holds
 * the first request at each of its await points in turn (its fresh read of
 * the job, then its D1 write), lands the second request there, and checks
 * the invariants once both are answered.
 */

beforeEach(() => freezeClock());
const clockNow = () => clock.now().getTime();

type Answer = Awaited<ReturnType<typeof call>>;
const HOLD_POINTS = { "its fresh read": holdNextStatement, "its write": holdNextBatch } as const;

/** Starts `first`, holds it at `point`, lands `second` while it is held, then lets both finish. */
async function race(jobName: string, point: keyof typeof HOLD_POINTS, first: () => Promise<Answer>, second: () => Promise<Answer>) {
  const held: Hold = await HOLD_POINTS[point](jobName);
  try {
    const firstAnswer = first();
    await vi.waitFor(() => expect(held.entered).toBe(true));
    let answered = false;
    const secondAnswer = second().finally(() => (answered = true));
    // The second request has arrived: it waits for the owner's turn (or, were there no owner, got through).
    await vi.waitFor(async () => expect(answered || (await schedulerOf(jobName).waitingForTurn()) > 0).toBe(true));
    held.release();
    return await Promise.all([firstAnswer, secondAnswer]);
  } finally {
    held.release(); // never leave a hold behind for another test to run into
  }
}

const patch = (name: string, body: object, headers?: Record<string, string>) => call("PATCH", `/jobs/${name}`, { body, headers });
const remove = (name: string, headers?: Record<string, string>) => call("DELETE", `/jobs/${name}`, { headers });
const trigger = (name: string) => call("POST", `/jobs/${name}/trigger`, { body: {} });

/** A deleted job: no row, no schedule, no alarm, and its due instant runs nothing. */
async function expectGoneForGood(name: string) {
  expect(await jobRow(name)).toBeNull();
  const state = await inspect(name);
  expect(state.config).toBeNull();
  expect(state.alarmAt).toBeNull();
  await setNext(name, minuteFloor(clockNow()));
  await fireAlarm(name);
  expect((await inspect(name)).running).toHaveLength(0);
}

for (const point of Object.keys(HOLD_POINTS) as (keyof typeof HOLD_POINTS)[]) {
  describe(`races, the first request held at ${point}`, () => {
    it("DELETE, then PATCH: the PATCH finds no job (404) and the deletion stands", async () => {
      const name = uniqueName("del-patch");
      await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
      const [deleted, patched] = await race(name, point, () => remove(name), () => patch(name, { max_retries: 1 }));
      expect(deleted.status).toBe(200);
      expect(patched.status).toBe(404);
      await expectGoneForGood(name);
      expect(await runsOf(name)).toHaveLength(0);
    });

    it("PATCH, then DELETE: both answered, the job stays deleted", async () => {
      const name = uniqueName("patch-del");
      await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
      const [patched, deleted] = await race(name, point, () => patch(name, { max_retries: 1 }), () => remove(name));
      expect(patched.status).toBe(200);
      expect(deleted.status).toBe(200);
      await expectGoneForGood(name);
      expect(await runsOf(name)).toHaveLength(0);
    });

    it("PATCH pause, then PATCH max_retries: neither change is lost and the job stays paused", async () => {
      const name = uniqueName("patch-patch");
      await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
      const [paused, retried] = await race(name, point, () => patch(name, { is_active: false }), () => patch(name, { max_retries: 3 }));
      expect([paused.status, retried.status]).toEqual([200, 200]);
      expect(retried.json).toMatchObject({ is_active: false, max_retries: 3, version: 3 });
      expect(await jobRow(name)).toMatchObject({ is_active: 0, max_retries: 3, version: 3, next_run_at: null });
      expect((await inspect(name)).alarmAt).toBeNull();
    });

    it("PATCH max_retries, then PATCH pause: the same, the other way round", async () => {
      const name = uniqueName("patch-patch2");
      await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
      const [retried, paused] = await race(name, point, () => patch(name, { max_retries: 3 }), () => patch(name, { is_active: false }));
      expect([retried.status, paused.status]).toEqual([200, 200]);
      expect(await jobRow(name)).toMatchObject({ is_active: 0, max_retries: 3, version: 3 });
      expect((await inspect(name)).alarmAt).toBeNull();
    });

    it("DELETE, then trigger: the trigger finds no job (404) and nothing runs", async () => {
      const name = uniqueName("del-trig");
      await registerJob(name, { handler: "testNoop" });
      const [deleted, triggered] = await race(name, point, () => remove(name), () => trigger(name));
      expect(deleted.status).toBe(200);
      expect(triggered.status).toBe(404);
      expect(calls.get(name)).toBeUndefined();
      expect(await runsOf(name)).toHaveLength(0);
      await expectGoneForGood(name);
    });

    it("trigger, then DELETE: the run started first finishes and is recorded; nothing runs after", async () => {
      const name = uniqueName("trig-del");
      await registerJob(name, { handler: "testNoop" });
      const [triggered, deleted] = await race(name, point, () => trigger(name), () => remove(name));
      expect(triggered.status).toBe(202);
      expect(deleted.status).toBe(200);
      const runs = await settled(name);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ run_no: 1, status: "success" });
      await expectGoneForGood(name);
      expect(await runsOf(name)).toHaveLength(1);
    });
  });
}

// A repair's only await before it decides is its fresh read of the job (any write to D1 follows the decision).
describe("races with a supervisor repair, held at its fresh read", () => {
    it("a supervisor repair, then DELETE: the repair cannot bring the job back", async () => {
      const name = uniqueName("repair-del");
      await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
      const reconcile = async () => ({ status: 200, json: await schedulerOf(name).reconcile(name) }) as Answer;
      const [, deleted] = await race(name, "its fresh read", reconcile, () => remove(name));
      expect(deleted.status).toBe(200);
      // A pass that read the job list before the delete asks again: the owner reads afresh.
      expect(await schedulerOf(name).reconcile(name)).toEqual([]);
      await expectGoneForGood(name);
    });

    it("DELETE, then a supervisor repair: the repair finds nothing to arm", async () => {
      const name = uniqueName("del-repair");
      await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
      const reconcile = async () => ({ status: 200, json: await schedulerOf(name).reconcile(name) }) as Answer;
      const [deleted, repaired] = await race(name, "its fresh read", () => remove(name), reconcile);
      expect(deleted.status).toBe(200);
      expect(repaired.json).toEqual([]);
      await expectGoneForGood(name);
    });

    it("a supervisor repair, then PATCH pause: the pause stands", async () => {
      const name = uniqueName("repair-pause");
      await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
      const reconcile = async () => ({ status: 200, json: await schedulerOf(name).reconcile(name) }) as Answer;
      const [, paused] = await race(name, "its fresh read", reconcile, () => patch(name, { is_active: false }));
      expect(paused.status).toBe(200);
      expect(await schedulerOf(name).reconcile(name)).toEqual([]);
      expect((await inspect(name)).alarmAt).toBeNull();
      expect(await jobRow(name)).toMatchObject({ is_active: 0, next_run_at: null });
    });
});

describe("a change that lands while a scheduled instant is firing", () => {
  it("a pause that lands while the instant's run is being recorded: the run is recorded, nothing runs after", async () => {
    const name = uniqueName("fire-pause");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testNoop" });
    const due = minuteFloor(clockNow());
    await setNext(name, due);
    const record = await holdNextBatch(name);
    await fireAlarm(name);
    await vi.waitFor(() => expect(record.entered).toBe(true));
    const pausing = patch(name, { is_active: false });
    record.release();
    expect((await pausing).status).toBe(200);
    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "success", scheduled_for: new Date(due).toISOString() });
    expect(await jobRow(name)).toMatchObject({ is_active: 0, next_run_at: null, last_run_status: "success" });
    expect((await inspect(name)).alarmAt).toBeNull();
    await setNext(name, due + MINUTE);
    await fireAlarm(name);
    expect(await settled(name)).toHaveLength(1);
  });
});

describe("versions and conditional requests", () => {
  it("GET sends the version as an ETag; every change raises it; a PATCH changes only the fields it names", async () => {
    const name = uniqueName("etag");
    const created = await registerJob(name, { handler: "testNoop", max_retries: 2, timeout_seconds: 60 });
    expect(created.headers.get("etag")).toBe('"1"');
    const read = await call("GET", `/jobs/${name}`);
    expect(read.headers.get("etag")).toBe('"1"');
    expect(read.json.version).toBe(1);

    const paused = await patch(name, { is_active: false }, { "if-match": '"1"' });
    expect(paused.status).toBe(200);
    expect(paused.headers.get("etag")).toBe('"2"');
    expect(paused.json).toMatchObject({ version: 2, is_active: false, max_retries: 2, timeout_seconds: 60 });
    const resumed = await patch(name, { is_active: true }, { "if-match": '"1", "2"' });
    expect(resumed.json).toMatchObject({ version: 3, is_active: true, max_retries: 2 });
    expect((await patch(name, { timeout_seconds: 30 }, { "if-match": "*" })).json).toMatchObject({ version: 4, timeout_seconds: 30, max_retries: 2 });
  });

  it("a stale If-Match gets 412 with the error shape, and nothing changes (no audit entry either)", async () => {
    const name = uniqueName("stale");
    await registerJob(name, { handler: "testNoop" });
    await patch(name, { max_retries: 1 }); // version 2
    const audits = async () => (await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE job_name = ?").bind(name).first<{ n: number }>())!.n;
    const before = await audits();

    const stale = await patch(name, { is_active: false }, { "if-match": '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.json.error).toMatchObject({ code: "precondition_failed", details: { job_name: name, current_version: 2 } });
    expect(stale.json.error.message).toMatch(/version 1.*version 2/);
    expect(stale.headers.get("etag")).toBe('"2"');
    const staleDelete = await remove(name, { "if-match": '"1"' });
    expect(staleDelete.status).toBe(412);

    expect(await jobRow(name)).toMatchObject({ is_active: 1, version: 2, max_retries: 1 });
    expect((await inspect(name)).alarmAt).not.toBeNull();
    expect(await audits()).toBe(before);
    expect((await remove(name, { "if-match": '"2"' })).status).toBe(200);
  });

  it("a malformed If-Match is a 400 that says what it must be", async () => {
    const name = uniqueName("badmatch");
    await registerJob(name, { handler: "testNoop" });
    for (const value of ["2", 'W/"1"', '"one"']) {
      const answer = await patch(name, { max_retries: 1 }, { "if-match": value });
      expect(answer.status).toBe(400);
      expect(answer.json.error.message).toMatch(/If-Match must be/);
    }
    expect((await jobRow(name))?.version).toBe(1);
  });
});

describe("a deleted or paused job never runs again", () => {
  it("a run in progress when its job is deleted finishes and is recorded, without its retry", async () => {
    const name = uniqueName("del-inflight");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testGated", max_retries: 3 });
    const release = gate(name);
    const due = minuteFloor(clockNow());
    await setNext(name, due);
    await fireAlarm(name);
    await vi.waitFor(() => expect(calls.get(name)).toBe(1));
    expect((await remove(name)).status).toBe(200);
    // Written as running in the delete's own transaction, so it can be finished and shown.
    expect((await runsOf(name))[0]).toMatchObject({ status: "running", run_no: 1, scheduled_for: new Date(due).toISOString() });
    release();
    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "success" });
    await expectGoneForGood(name);
  });

  it("a run waiting for its retry when its job is paused is closed, not retried", async () => {
    const name = uniqueName("pause-retry");
    await registerJob(name, { handler: "testFlaky", max_retries: 2, overlap_policy: "allow" });
    failNext(name, 5);
    const run = await trigger(name);
    await vi.waitFor(async () => expect((await inspect(name)).running[0]?.retryAt).toBeTypeOf("number"));
    expect((await patch(name, { is_active: false })).status).toBe(200);
    const runs = await settled(name);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "failed", attempts: 1 });
    expect(runs[0]!.error).toMatch(/not retried: the job was paused/);
    expect(run.json.run_id).toBe("run-0001");
    expect(calls.get(name)).toBe(1);
  });

  it("a name registered again starts afresh; the deleted registration is a tombstone whose late run writes nothing new", async () => {
    const name = uniqueName("reborn");
    await registerJob(name, { handler: "testGated", overlap_policy: "allow" });
    const release = gate(name);
    const old = await trigger(name);
    await vi.waitFor(() => expect(calls.get(name)).toBe(1));
    const oldJobId = (await jobRow(name))!.job_id;
    expect((await remove(name)).status).toBe(200);
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    const state = await inspect(name);
    expect(state.retired).toContain(oldJobId);
    expect(state.config?.jobId).not.toBe(oldJobId);

    release();
    await vi.waitFor(async () => expect((await inspect(name)).running).toHaveLength(0));
    const rows = await runsOf(name);
    // The old run was finished in its own registration; the new one has no runs yet and numbers from 1.
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ job_id: oldJobId, run_no: 1, status: "success" });
    expect(old.json.run_id).toBe("run-0001");
    expect((await trigger(name)).json.run_id).toBe("run-0001");
    await settled(name);
    const fresh = await call("GET", `/jobs/${name}/last-result`);
    expect(fresh.json).toMatchObject({ run_id: "run-0001", status: "success" });
    expect((await jobRow(name))?.last_run_status).toBe("success");
  });
});

describe("run ids from the owner", () => {
  it("a scheduled run has its API run_id in its handler and in its run.start log line from the start", async () => {
    const name = uniqueName("ids");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testGated" });
    const release = gate(name);
    const logs = vi.spyOn(console, "log");
    await setNext(name, minuteFloor(clockNow()));
    await fireAlarm(name);
    await vi.waitFor(() => expect(calls.get(name)).toBe(1));
    const start = logs.mock.calls.map(([line]) => String(line)).find((line) => line.includes('"run.start"') && line.includes(name));
    expect(JSON.parse(start!)).toMatchObject({ job_name: name, run_id: "run-0001" });
    await runInDurableObject(schedulerOf(name), (_instance, state) => {
      expect([...state.storage.kv.list({ prefix: "run:" })]).toHaveLength(1);
    });
    release();
    expect((await settled(name)).map((r) => r.run_no)).toEqual([1]);
    logs.mockRestore();
  });
});
