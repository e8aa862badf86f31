import { beforeEach, describe, expect, it } from "vitest";
import { certificationExpiryHandler, checkCertificationExpiry } from "../src/handlers/certification-expiry";
import { PAGE_ROWS } from "../src/handlers/chunked";
import { pauseAutoLiftHandler } from "../src/handlers/pause-auto-lift";
import { REPORT_LIST_HEAD, weeklyExpiryReportHandler } from "../src/handlers/weekly-expiry-report";
import type { HandlerContext } from "../src/handlers/types";
import { limitedDb } from "./helpers/limited-d1";
import { at, ctx, DB, resetPlatform, snapshot } from "./helpers/platform-fixtures";
import { run, runSteps } from "./helpers/run-handler";

// The built-in handlers at sizes where a single read or a single bound list
// breaks a production D1 limit, run step by step through a binding that
// enforces those limits (test/helpers/limited-d1.ts).

const NOW = new Date("2030-03-10T02:00:00.000Z");

beforeEach(resetPlatform);

async function count(query: string): Promise<number> {
  return (await DB.prepare(query).first<{ n: number }>())!.n;
}

/**
 * `n` active mentors "m-000001".., each with one certification "c-000001"..
 * Mentor i's expires `expiryDays(i)` days from NOW, written as an SQL
 * expression of i (the rows are made inside SQLite, not bound).
 */
async function seedMentors(n: number, expiryDays: string, status = "'active'"): Promise<void> {
  await DB.batch([
    DB.prepare(
      `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
       INSERT INTO mentors (mentor_id, name, email, status, created_at)
       SELECT printf('m-%06d', i), 'Mentor ' || i, printf('m-%06d@example.org', i), ${status}, ?2 FROM k`,
    ).bind(n, NOW.toISOString()),
    DB.prepare(
      `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
       INSERT INTO certifications (certification_id, mentor_id, name, expires_at)
       SELECT printf('c-%06d', i), printf('m-%06d', i), 'Safeguarding ' || i,
              strftime('%Y-%m-%dT%H:%M:%fZ', ?2 / 1000.0 + (${expiryDays}) * 86400, 'unixepoch') FROM k`,
    ).bind(n, NOW.getTime()),
  ]);
}

// 1 in 10 expired 2 days ago, 6 in 10 inside the 30-day window (1, 5 and 20
// days out: windows 1, 7 and 30), 3 in 10 beyond it.
const MIXED = `CASE i % 10 WHEN 0 THEN -2 WHEN 1 THEN 0.5 WHEN 2 THEN 5 WHEN 3 THEN 20 WHEN 4 THEN 20 WHEN 5 THEN 5 WHEN 6 THEN 20 ELSE 100 END`;

describe("checkCertificationExpiry at scale, within D1's production limits", () => {
  it("5,000 mentors all inside the 30-day window: 11 steps of 500, right totals, every limit kept", async () => {
    await seedMentors(5_000, "1 + (i % 29)");
    const limited = limitedDb(500);
    const { summary, steps } = await runSteps(certificationExpiryHandler(500), ctx(NOW), limited);
    expect(summary).toEqual({ mentors_checked: 5_000, expired_found: 0, auto_paused: 0, reminders_sent: 5_000, errors: 0 });
    expect(steps).toHaveLength(11); // 10 full pages, then the empty page that ends the run
    expect(steps.map((s) => s.progress.processed)).toEqual([...Array.from({ length: 10 }, (_, i) => (i + 1) * 500), 5_000]);
    expect(steps.every((s) => s.progress.total === 5_000)).toBe(true);
    expect(await count("SELECT count(*) AS n FROM notification_outbox WHERE kind = 'cert_expiry_reminder'")).toBe(5_000);
    expect(limited.peak.rowsPerQuery).toBeLessThanOrEqual(500);
    expect(limited.peak.queriesPerInvocation).toBeLessThanOrEqual(10);
    // A finished run keeps one ledger row, with the whole run's counters.
    expect(await count("SELECT count(*) AS n FROM run_steps")).toBe(1);
  });

  it("12,000 mentors with the production page size (2,000): pauses, notices and reminders all land once", async () => {
    await seedMentors(12_000, MIXED);
    const limited = limitedDb(PAGE_ROWS);
    const { summary, steps } = await runSteps(checkCertificationExpiry, ctx(NOW, { runId: "run-0007" }), limited);
    expect(summary).toEqual({ mentors_checked: 12_000, expired_found: 1_200, auto_paused: 1_200, reminders_sent: 7_200, errors: 0 });
    expect(steps).toHaveLength(7);
    expect(await count("SELECT count(*) AS n FROM mentors WHERE status = 'paused'")).toBe(1_200);
    expect(await count("SELECT count(*) AS n FROM pauses WHERE created_by_run = 'run-0007'")).toBe(1_200);
    expect(await count("SELECT count(*) AS n FROM notification_outbox WHERE kind = 'mentor_paused'")).toBe(1_200);
    expect(await count("SELECT count(*) AS n FROM notification_outbox WHERE kind = 'cert_expiry_reminder'")).toBe(7_200);
    // Far below the limits, not just under them.
    expect(limited.peak.queriesPerInvocation).toBeLessThanOrEqual(20);
    expect(limited.peak.valueBytes).toBeLessThan(250_000);
    expect(limited.peak.boundParameters).toBeLessThanOrEqual(20);

    // The next night: nothing new.
    const again = await run(checkCertificationExpiry, ctx(NOW), limitedDb(PAGE_ROWS));
    expect(again).toEqual({ mentors_checked: 10_800, expired_found: 0, auto_paused: 0, reminders_sent: 0, errors: 0 });
  });

  it("a chunked dry run predicts the chunked real run exactly, with part of the outbox already queued", async () => {
    await seedMentors(6_000, MIXED);
    // An earlier night queued the reminders of mentors 1..1,500 (their windows are the same today).
    await run(certificationExpiryHandler(700), ctx(NOW), limitedDb(700));
    await DB.batch([
      DB.prepare("DELETE FROM notification_outbox WHERE kind != 'cert_expiry_reminder' OR mentor_id > 'm-001500'"),
      DB.prepare("DELETE FROM pauses"),
      DB.prepare("UPDATE mentors SET status = 'active'"),
    ]);
    const before = await snapshot();
    const dry = await run(certificationExpiryHandler(700), ctx(NOW, { dryRun: true }), limitedDb(700));
    expect(await snapshot()).toEqual(before);
    const real = await run(certificationExpiryHandler(700), ctx(NOW), limitedDb(700));
    expect(dry).toEqual(real);
    expect(real).toEqual({ mentors_checked: 6_000, expired_found: 600, auto_paused: 600, reminders_sent: 3_600 - 900, errors: 0 });
  });

  it("a step replayed after its batch committed, or racing a copy of itself, repeats no effect and no count", async () => {
    await seedMentors(3_000, MIXED);
    const handler = certificationExpiryHandler(400);
    const c: HandlerContext = ctx(NOW, { runId: "run-0500" });
    const first = await handler.step(c);
    expect(first).toMatchObject({ done: false, progress: { processed: 400, total: 3_000 } });
    // The object died after step 2 committed and before it learned so: the
    // restarted object calls step again, which goes on from the ledger.
    await handler.step(c);
    const third = await handler.step(c);
    expect(third.progress.processed).toBe(1_200);
    // Two copies of the same step at once (an alarm delivered twice): one commits, the other rolls back whole.
    const [a, b] = await Promise.all([handler.step(c), handler.step(c)]);
    expect(a).toEqual(b);
    expect(a.progress.processed).toBe(1_600);
    const { summary } = await runSteps(handler, c);
    expect(summary).toEqual({ mentors_checked: 3_000, expired_found: 300, auto_paused: 300, reminders_sent: 1_800, errors: 0 });
    expect(await count("SELECT count(*) AS n FROM notification_outbox")).toBe(2_100);
    expect(await count("SELECT count(*) AS n FROM pauses")).toBe(300);
    // Stepping a finished run again returns its result and changes nothing.
    const after = await snapshot();
    expect((await handler.step(c)).summary).toEqual(summary);
    expect(await snapshot()).toEqual(after);
  });

  it("an empty platform is one step", async () => {
    const { summary, steps } = await runSteps(checkCertificationExpiry, ctx(NOW), limitedDb(PAGE_ROWS));
    expect(steps).toEqual([{ done: true, summary, progress: { processed: 0, total: 0 } }]);
  });
});

describe("liftExpiredPauses at scale", () => {
  it("5,000 due pauses over 2,500 mentors, pages of 300: a mentor is reactivated only once both pauses are lifted", async () => {
    await seedMentors(2_500, "CASE WHEN i % 5 = 0 THEN -1 ELSE 200 END", "'paused'");
    await DB.prepare(
      `INSERT INTO pauses (mentor_id, reason, paused_at, auto_lift_at)
       SELECT mentor_id, reason, ?1, ?2 FROM mentors, (SELECT 'vacation' AS reason UNION ALL SELECT 'parental_leave')
       ORDER BY reason, mentor_id`, // a mentor's two pauses 2,500 ids apart: always in different pages
    )
      .bind(at(NOW, { days: -10 }), at(NOW, { days: -1 }))
      .run();
    const handler = pauseAutoLiftHandler(300);
    const before = await snapshot();
    const dry = await run(handler, ctx(NOW, { dryRun: true }), limitedDb(300));
    expect(await snapshot()).toEqual(before);

    const limited = limitedDb(300);
    const { summary, steps } = await runSteps(handler, ctx(NOW), limited);
    expect(summary).toEqual({ pauses_checked: 5_000, lifted: 4_000, kept: 1_000, errors: 0 });
    expect(dry).toEqual(summary);
    expect(steps).toHaveLength(17);
    expect(steps[0]!.progress.total).toBe(5_000);
    expect(await count("SELECT count(*) AS n FROM mentors WHERE status = 'active'")).toBe(2_000);
    expect(await count("SELECT count(*) AS n FROM notification_outbox WHERE kind = 'pause_lifted'")).toBe(4_000);
    expect(limited.peak.rowsPerQuery).toBeLessThanOrEqual(300);
  });
});

describe("generateWeeklyExpiryReport at scale", () => {
  it("a 12,000-entry list: the report row stays small, the full lists are rows of report_items", async () => {
    await seedMentors(12_000, "1 + (i % 25)");
    await DB.prepare("UPDATE mentors SET status = 'paused' WHERE mentor_id <= 'm-000300'").run();
    const handler = weeklyExpiryReportHandler(1_000);
    const c = ctx(NOW, { runId: "run-0009", jobId: 3, jobName: "weekly" });
    const dry = await run(handler, { ...c, dryRun: true, runId: "run-0008" }, limitedDb(1_000));
    const limited = limitedDb(1_000);
    const summary = await run(handler, c, limited);
    const expiring7 = 12_000 - Math.floor(12_000 / 25) * 18; // i % 25 in 0..6 → 1..7 days out
    expect(summary).toEqual({
      expiring_7_days: expiring7,
      expiring_30_days: 12_000,
      paused_mentors: 300,
      unreadable_certifications: 0,
      reports_stored: 1,
    });
    expect(dry).toEqual(summary);

    const row = await DB.prepare("SELECT length(body) AS size, body FROM reports WHERE job_id = 3 AND run_id = 'run-0009'").first<{
      size: number;
      body: string;
    }>();
    expect(row!.size).toBeLessThan(200_000);
    const body = JSON.parse(row!.body);
    expect(body.counts).toEqual({ expiring_7_days: expiring7, expiring_30_days: 12_000, paused_mentors: 300, unreadable_certifications: 0 });
    expect(body.expiring_30_days).toHaveLength(REPORT_LIST_HEAD);
    expect(body.full_lists).toEqual({ table: "report_items", kind: "weekly_expiry_summary", job_id: 3, run_id: "run-0009" });
    // Soonest first: the head is the 1-day ones, by certification id.
    expect(body.expiring_30_days[0]).toMatchObject({ certification_id: "c-000025", expires_at: at(NOW, { days: 1 }) });
    expect(await count("SELECT count(*) AS n FROM report_items WHERE run_id = 'run-0009' AND list = 'expiring_30_days'")).toBe(12_000);
    expect(await count("SELECT count(*) AS n FROM report_items WHERE run_id = 'run-0009' AND list = 'paused_mentors'")).toBe(300);
    expect(limited.peak.rowsPerQuery).toBeLessThanOrEqual(1_000);
  });
});

describe("the limit-enforcing binding", () => {
  const limited = () => limitedDb(10);

  it("refuses what production D1 refuses", async () => {
    const d1 = limited().binding();
    expect(() => d1.prepare(`SELECT '${"x".repeat(100_001)}'`)).toThrow(/statement of 100010 bytes/);
    expect(() => d1.prepare("SELECT 1").bind(...Array.from({ length: 101 }, () => 1))).toThrow(/101 bound parameters/);
    expect(() => d1.prepare("SELECT ?").bind("x".repeat(1_000_001))).toThrow(/bound value of 1000001 bytes/);
    await expect(d1.prepare("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 11) SELECT i FROM k").all()).rejects.toThrow(
      /returned 11 rows, more than one chunk/,
    );
    await expect(d1.prepare("SELECT zeroblob(1000001) AS b").all()).rejects.toThrow(/a row of/);
  });

  it("counts queries per invocation, a batch's statements each", async () => {
    const l = limitedDb(10);
    l.limits.queriesPerInvocation = 5;
    const d1 = l.binding();
    l.beginInvocation();
    await d1.batch([d1.prepare("SELECT 1"), d1.prepare("SELECT 2"), d1.prepare("SELECT 3")]);
    await d1.prepare("SELECT 4").first();
    await d1.prepare("SELECT 5").first();
    await expect(d1.prepare("SELECT 6").first()).rejects.toThrow(/more than 5 queries in one invocation/);
    l.beginInvocation();
    await d1.prepare("SELECT 7").first();
  });
});
