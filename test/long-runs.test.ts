import { beforeEach, describe, expect, it, vi } from "vitest";
import { checkCertificationExpiry } from "../src/handlers/certification-expiry";
import { PAGE_ROWS } from "../src/handlers/chunked";
import { clock } from "../src/lib/clock";
import { call, registerJob, uniqueName } from "./helpers/api";
import { freezeClock } from "./helpers/clock";
import { db, DB, resetPlatform } from "./helpers/platform-fixtures";
import { editRunning, fireAlarm, inspect, runsOf } from "./helpers/scheduler";

/**
 * Issue 11: a long run goes one bounded step per invocation of its job's
 * object (each next step from an alarm), shows its progress while it goes,
 * and carries on after a restart from its last committed step.
 */

const MENTORS = 5_000;
const STEPS = Math.ceil(MENTORS / PAGE_ROWS);

beforeEach(async () => {
  freezeClock();
  await resetPlatform();
  // Every mentor active, each with one certification expiring in 5 days: one 7-day reminder each.
  await DB.batch([
    DB.prepare(
      `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
       INSERT INTO mentors (mentor_id, name, email, status, created_at)
       SELECT printf('m-%06d', i), 'Mentor ' || i, printf('m-%06d@example.org', i), 'active', ?2 FROM k`,
    ).bind(MENTORS, clock.now().toISOString()),
    DB.prepare(
      `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
       INSERT INTO certifications (certification_id, mentor_id, name, expires_at)
       SELECT printf('c-%06d', i), printf('m-%06d', i), 'First aid', ?2 FROM k`,
    ).bind(MENTORS, new Date(clock.now().getTime() + 5 * 86_400_000).toISOString()),
  ]);
});

/** Waits until the step going (if any) has settled: the run then waits for its next alarm, or is done. */
async function stepSettled(name: string) {
  await vi.waitFor(async () => expect((await inspect(name)).running.every((r) => r.inFlight === null)).toBe(true), { timeout: 10_000 });
  return (await inspect(name)).running[0];
}

const outboxRows = async () => (await DB.prepare("SELECT count(*) AS n FROM notification_outbox").first<{ n: number }>())!.n;

describe("a long run, step by step", () => {
  it("takes one step per invocation, shows its progress in the API and the dashboard, and ends with the whole run's totals", async () => {
    const name = uniqueName("long");
    await registerJob(name, { handler: "checkCertificationExpiry", is_active: false });
    const triggered = await call("POST", `/jobs/${name}/trigger`, { body: {} });
    expect(triggered.status).toBe(202);

    // The first step ran from the trigger; the next waits for the object's alarm (its own invocation).
    const waiting = await stepSettled(name);
    expect(waiting).toMatchObject({ progress: { processed: PAGE_ROWS, total: MENTORS }, stepAt: clock.now().getTime() });
    expect(Date.parse((await inspect(name)).alarmAt!)).toBe(clock.now().getTime());
    const runs = await call("GET", `/jobs/${name}/runs`);
    expect(runs.json.data[0]).toMatchObject({ run_id: "run-0001", status: "running", progress: { processed: PAGE_ROWS, total: MENTORS } });
    const page = await call("GET", `https://scheduler.test/jobs/${name}`);
    expect(page.text).toContain(`data-run-progress="${PAGE_ROWS} of ${MENTORS}"`);

    let invocations = 1;
    while ((await inspect(name)).running.length > 0) {
      await fireAlarm(name);
      invocations++;
      await stepSettled(name);
    }
    expect(invocations).toBe(STEPS);
    const [run] = await runsOf(name);
    expect(run).toMatchObject({ status: "success", attempts: 1 });
    expect(JSON.parse(run!.result_summary!)).toMatchObject({ mentors_checked: MENTORS, reminders_sent: MENTORS, errors: 0 });
    expect(await outboxRows()).toBe(MENTORS);
    expect((await call("GET", `/jobs/${name}/runs`)).json.data[0].progress).toBeUndefined();
  });

  it("a step that committed in an instance that then died is not repeated: the run goes on from the ledger, no effect twice", async () => {
    const name = uniqueName("resume");
    await registerJob(name, { handler: "checkCertificationExpiry", is_active: false });
    await call("POST", `/jobs/${name}/trigger`, { body: {} });
    const entry = (await stepSettled(name))!;

    // The instance ran step 2 to its commit and died before it learned so (a deploy, `wrangler dev` killed).
    await checkCertificationExpiry.step({ db: db(), now: new Date(entry.startedAt), dryRun: false, runId: entry.runId, jobId: entry.jobId, jobName: name });
    await editRunning(name, (e) => ({ ...e, stepAt: null, inFlight: { owner: "a-gone-instance", token: "lost", since: clock.now().getTime() } }));

    let guard = 0;
    while ((await inspect(name)).running.length > 0 && guard++ < STEPS + 2) {
      await fireAlarm(name);
      await stepSettled(name);
    }
    const [run] = await runsOf(name);
    expect(run).toMatchObject({ status: "success" });
    expect(JSON.parse(run!.result_summary!)).toMatchObject({ mentors_checked: MENTORS, reminders_sent: MENTORS });
    expect(await outboxRows()).toBe(MENTORS);
  });

  it("a dry run goes step by step too and predicts the real run exactly, writing nothing", async () => {
    const name = uniqueName("dry-long");
    await registerJob(name, { handler: "checkCertificationExpiry", is_active: false, overlap_policy: "allow" });
    const settleRun = async () => {
      while ((await inspect(name)).running.length > 0) {
        await stepSettled(name);
        if ((await inspect(name)).running.length > 0) await fireAlarm(name);
      }
    };
    await call("POST", `/jobs/${name}/trigger`, { body: { dry_run: true } });
    await settleRun();
    expect(await outboxRows()).toBe(0);
    await call("POST", `/jobs/${name}/trigger`, { body: {} });
    await settleRun();
    const [dry, real] = await runsOf(name);
    expect(JSON.parse(dry!.result_summary!)).toEqual(JSON.parse(real!.result_summary!));
  });
});
