/// <reference types="vite/client" />
import { beforeEach, describe, expect, it } from "vitest";
import seedSql from "../seed/demo.sql?raw";
import { BUILT_IN_HANDLERS, handlerNames, handlerRegistry, oneStep } from "../src/handlers";
import { checkCertificationExpiry, reminderWindow } from "../src/handlers/certification-expiry";
import { parseInstant } from "../src/lib/instants";
import { liftExpiredPauses } from "../src/handlers/pause-auto-lift";
import { generateWeeklyExpiryReport } from "../src/handlers/weekly-expiry-report";
import { addMentor, addPause, at, ctx, DB, resetPlatform, snapshot } from "./helpers/platform-fixtures";
import { run } from "./helpers/run-handler";
import { TEST_HANDLERS } from "./helpers/test-handlers";

const NOW = new Date("2030-03-10T02:00:00.000Z");

async function rows<T = Record<string, unknown>>(query: string, ...params: unknown[]): Promise<T[]> {
  return (await DB.prepare(query).bind(...params).all<T>()).results;
}

async function mentorStatus(mentorId: string): Promise<string | undefined> {
  const [row] = await rows<{ status: string }>("SELECT status FROM mentors WHERE mentor_id = ?", mentorId);
  return row?.status;
}

beforeEach(resetPlatform);

describe("parseInstant and reminderWindow", () => {
  it("accepts ISO instants and rejects what Date.parse would bend", () => {
    expect(parseInstant("2030-03-10T02:00:00.000Z")?.toISOString()).toBe("2030-03-10T02:00:00.000Z");
    expect(parseInstant("2030-03-10T02:00:00Z")?.toISOString()).toBe("2030-03-10T02:00:00.000Z");
    expect(parseInstant("2030-03-10T04:00:00+02:00")?.toISOString()).toBe("2030-03-10T02:00:00.000Z");
    expect(parseInstant("2030-03-10")?.toISOString()).toBe("2030-03-10T00:00:00.000Z");
    for (const bad of ["not-a-date", "", "2030-02-30T00:00:00Z", "2030-03-10 02:00:00", "2030-03-10T02:00:00", "March 10, 2030"]) {
      expect(parseInstant(bad), bad).toBeNull();
    }
  });

  it("puts a certification in the tightest window, boundaries inclusive", () => {
    const w = (ms: number) => reminderWindow(new Date(NOW.getTime() + ms), NOW);
    const DAY = 86_400_000;
    expect(w(0)).toBeNull(); // expired, not reminded
    expect(w(1)).toBe(1);
    expect(w(DAY)).toBe(1);
    expect(w(DAY + 1)).toBe(7);
    expect(w(7 * DAY)).toBe(7);
    expect(w(7 * DAY + 1)).toBe(30);
    expect(w(30 * DAY)).toBe(30);
    expect(w(30 * DAY + 1)).toBeNull();
  });
});

describe("checkCertificationExpiry", () => {
  async function prepare(): Promise<void> {
    await addMentor("ce-a", {
      certs: [
        { id: "ce-a1", expiresAt: at(NOW, { days: -1 }) },
        { id: "ce-a2", expiresAt: at(NOW) }, // expires exactly now: expired
      ],
    });
    await addMentor("ce-b", {
      certs: [
        { id: "ce-b1", expiresAt: at(NOW, { hours: 12 }) },
        { id: "ce-b2", expiresAt: at(NOW, { days: 1 }) },
      ],
    });
    await addMentor("ce-c", {
      certs: [
        { id: "ce-c1", expiresAt: at(NOW, { days: 3 }) },
        { id: "ce-c2", expiresAt: at(NOW, { days: 7, hours: 12 }) },
      ],
    });
    await addMentor("ce-d", {
      certs: [
        { id: "ce-d1", expiresAt: at(NOW, { days: 30 }) },
        { id: "ce-d2", expiresAt: at(NOW, { days: 31 }) },
      ],
    });
    await addMentor("ce-e"); // no certifications: checked, nothing to do
    // Already paused: not checked, so neither counted nor paused again.
    await addMentor("ce-f", { status: "paused", certs: [{ id: "ce-f1", expiresAt: at(NOW, { days: -5 }) }] });
    await addPause("ce-f", "vacation");
  }

  it("pauses mentors with an expired certification and queues reminders in the tightest window", async () => {
    await prepare();
    const summary = await run(checkCertificationExpiry, ctx(NOW, { runId: "run-0042" }));
    expect(summary).toEqual({
      mentors_checked: 5,
      expired_found: 2,
      auto_paused: 1,
      reminders_sent: 5,
      errors: 0,
    });

    expect(await mentorStatus("ce-a")).toBe("paused");
    expect(await mentorStatus("ce-b")).toBe("active");
    expect(
      await rows("SELECT mentor_id, reason, paused_at, auto_lift_at, lifted_at, created_by_run FROM pauses WHERE mentor_id = 'ce-a'"),
    ).toEqual([
      {
        mentor_id: "ce-a",
        reason: "certification_expired",
        paused_at: NOW.toISOString(),
        auto_lift_at: null,
        lifted_at: null,
        created_by_run: "run-0042",
      },
    ]);

    const outbox = await rows<{ dedupe_key: string; kind: string; mentor_id: string; payload: string; created_at: string; created_by_run: string }>(
      "SELECT dedupe_key, kind, mentor_id, payload, created_at, created_by_run FROM notification_outbox WHERE kind = 'cert_expiry_reminder' ORDER BY dedupe_key",
    );
    expect(outbox.map((r) => r.dedupe_key)).toEqual([
      "cert-expiry-reminder:ce-b1:1",
      "cert-expiry-reminder:ce-b2:1",
      "cert-expiry-reminder:ce-c1:7",
      "cert-expiry-reminder:ce-c2:30",
      "cert-expiry-reminder:ce-d1:30",
    ]);
    expect(outbox.every((r) => r.kind === "cert_expiry_reminder" && r.created_at === NOW.toISOString() && r.created_by_run === "run-0042")).toBe(true);
    expect(JSON.parse(outbox[2]!.payload)).toEqual({
      mentor_id: "ce-c",
      email: "ce-c@example.org",
      certification_id: "ce-c1",
      certification_name: "Cert ce-c1",
      expires_at: at(NOW, { days: 3 }),
      window_days: 7,
    });

    // The pause is announced once, naming the certification that expired first.
    const paused = await rows<{ dedupe_key: string; mentor_id: string; payload: string; created_by_run: string }>(
      "SELECT dedupe_key, mentor_id, payload, created_by_run FROM notification_outbox WHERE kind = 'mentor_paused'",
    );
    expect(paused).toHaveLength(1);
    expect(paused[0]).toMatchObject({ dedupe_key: `mentor-paused:ce-a:ce-a1:${at(NOW, { days: -1 })}`, mentor_id: "ce-a", created_by_run: "run-0042" });
    expect(JSON.parse(paused[0]!.payload)).toEqual({
      mentor_id: "ce-a",
      name: "Mentor ce-a",
      email: "ce-a@example.org",
      certification_id: "ce-a1",
      certification_name: "Cert ce-a1",
      expired_at: at(NOW, { days: -1 }),
      paused_at: NOW.toISOString(),
    });
  });

  it("dry run returns the real run's summary and writes nothing", async () => {
    await prepare();
    // One reminder is already queued: neither the dry run nor the real run counts it.
    await run(checkCertificationExpiry, ctx(new Date(NOW.getTime() - 3_600_000)));
    await DB.prepare("UPDATE mentors SET status = 'active' WHERE mentor_id = 'ce-a'").run();
    await DB.prepare("DELETE FROM pauses WHERE reason = 'certification_expired'").run();
    await DB.prepare("DELETE FROM notification_outbox WHERE dedupe_key != 'cert-expiry-reminder:ce-c1:7'").run();

    const before = await snapshot();
    const dry = await run(checkCertificationExpiry, ctx(NOW, { dryRun: true }));
    expect(await snapshot()).toEqual(before);

    const real = await run(checkCertificationExpiry, ctx(NOW));
    expect(dry).toEqual(real);
    expect(real).toMatchObject({ auto_paused: 1, reminders_sent: 4 });
  });

  it("a second run the same day changes nothing", async () => {
    await prepare();
    await run(checkCertificationExpiry, ctx(NOW, { runId: "run-0001" }));
    const afterFirst = await snapshot();

    // Windows are exact durations, so "same day" here means no certification
    // crosses a window edge or expires in between (ce-c2 stays over 7 days out).
    const later = new Date(NOW.getTime() + 5 * 3_600_000);
    const second = await run(checkCertificationExpiry, ctx(later, { runId: "run-0002" }));
    expect(second).toEqual({
      mentors_checked: 4, // ce-a is paused now
      expired_found: 0,
      auto_paused: 0,
      reminders_sent: 0,
      errors: 0,
    });
    expect(await snapshot()).toEqual(afterFirst);
  });

  it("sends the tighter window when a certification enters it, without back-filling wider ones", async () => {
    await addMentor("ce-w", { certs: [{ id: "ce-w1", expiresAt: at(NOW, { days: 10 }) }] });
    expect(await run(checkCertificationExpiry, ctx(NOW))).toMatchObject({ reminders_sent: 1 });
    // Four days later it is 6 days out: the 7-day window, once.
    const later = new Date(NOW.getTime() + 4 * 86_400_000);
    expect(await run(checkCertificationExpiry, ctx(later))).toMatchObject({ reminders_sent: 1 });
    expect(await run(checkCertificationExpiry, ctx(later))).toMatchObject({ reminders_sent: 0 });

    await addMentor("ce-x", { certs: [{ id: "ce-x1", expiresAt: at(later, { hours: 2 }) }] });
    expect(await run(checkCertificationExpiry, ctx(later))).toMatchObject({ reminders_sent: 1 });

    const keys = await rows<{ dedupe_key: string }>(
      "SELECT dedupe_key FROM notification_outbox WHERE kind = 'cert_expiry_reminder' ORDER BY dedupe_key",
    );
    expect(keys.map((r) => r.dedupe_key)).toEqual([
      "cert-expiry-reminder:ce-w1:30",
      "cert-expiry-reminder:ce-w1:7",
      "cert-expiry-reminder:ce-x1:1",
    ]);
  });

  it("counts bad rows in errors and processes the rest", async () => {
    await addMentor("ce-bad", {
      certs: [
        { id: "ce-bad1", expiresAt: "not-a-date" },
        { id: "ce-bad2", expiresAt: "2030-02-30T00:00:00Z" },
      ],
    });
    await addMentor("ce-ok", {
      certs: [
        { id: "ce-ok1", expiresAt: at(NOW, { days: -2 }) },
        { id: "ce-ok2", expiresAt: at(NOW, { days: 5 }) },
      ],
    });
    const summary = await run(checkCertificationExpiry, ctx(NOW));
    expect(summary).toEqual({ mentors_checked: 2, expired_found: 1, auto_paused: 1, reminders_sent: 1, errors: 2 });
    expect(await mentorStatus("ce-bad")).toBe("active");
    expect(await mentorStatus("ce-ok")).toBe("paused");
    expect(await rows("SELECT dedupe_key FROM notification_outbox WHERE kind = 'cert_expiry_reminder'")).toEqual([
      { dedupe_key: "cert-expiry-reminder:ce-ok2:7" },
    ]);
  });

  it("handles hundreds of mentors in one batch (lists are one bound parameter each)", async () => {
    // 900 mentors (600 reminders: more than one outbox statement): every 3rd has an expired certification, the rest one expiring in 5 days.
    await DB.batch([
      DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 900)
         INSERT INTO mentors (mentor_id, name, email, status, created_at)
         SELECT printf('bulk-%04d', i), 'Bulk ' || i, printf('bulk-%04d@example.org', i), 'active', ?1 FROM n`,
      ).bind(NOW.toISOString()),
      DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 900)
         INSERT INTO certifications (certification_id, mentor_id, name, expires_at)
         SELECT printf('bulk-%04d-1', i), printf('bulk-%04d', i), 'Bulk cert', CASE WHEN i % 3 = 0 THEN ?1 ELSE ?2 END FROM n`,
      ).bind(at(NOW, { days: -1 }), at(NOW, { days: 5 })),
    ]);
    const first = await run(checkCertificationExpiry, ctx(NOW));
    expect(first).toEqual({ mentors_checked: 900, expired_found: 300, auto_paused: 300, reminders_sent: 600, errors: 0 });
    const [counts] = await rows<{ paused: number; pauses: number; outbox: number }>(
      `SELECT (SELECT count(*) FROM mentors WHERE status = 'paused') AS paused,
              (SELECT count(*) FROM pauses) AS pauses, (SELECT count(*) FROM notification_outbox) AS outbox`,
    );
    expect(counts).toEqual({ paused: 300, pauses: 300, outbox: 900 }); // 600 reminders, 300 mentor_paused
    expect(await run(checkCertificationExpiry, ctx(NOW))).toEqual({
      mentors_checked: 600,
      expired_found: 0,
      auto_paused: 0,
      reminders_sent: 0,
      errors: 0,
    });
  });

  it("never opens a second pause when one is already open", async () => {
    // Status was set back by hand but the certification_expired pause is still open.
    await addMentor("ce-open", { certs: [{ id: "ce-open1", expiresAt: at(NOW, { days: -1 }) }] });
    await addPause("ce-open", "certification_expired");
    expect(await run(checkCertificationExpiry, ctx(NOW))).toMatchObject({ auto_paused: 1 });
    expect(await rows("SELECT pause_id FROM pauses WHERE mentor_id = 'ce-open'")).toHaveLength(1);
    expect(await mentorStatus("ce-open")).toBe("paused");
  });
});

describe("liftExpiredPauses", () => {
  async function prepare(): Promise<Record<string, number>> {
    const cert = (id: string, days: number) => [{ id, expiresAt: at(NOW, { days }) }];
    await addMentor("pl-lift", { status: "paused", certs: cert("pl-lift1", 200) });
    await addMentor("pl-kept", { status: "paused", certs: cert("pl-kept1", -1) });
    await addMentor("pl-other", { status: "paused", certs: cert("pl-other1", 200) });
    await addMentor("pl-future", { status: "paused", certs: cert("pl-future1", 200) });
    await addMentor("pl-done", { status: "paused", certs: cert("pl-done1", 200) });
    await addMentor("pl-two", { status: "paused", certs: cert("pl-two1", 200) });
    await addMentor("pl-edge", { status: "paused" });
    return {
      lift: await addPause("pl-lift", "vacation", { autoLiftAt: at(NOW, { days: -1 }) }),
      kept: await addPause("pl-kept", "vacation", { autoLiftAt: at(NOW, { hours: -2 }) }),
      other: await addPause("pl-other", "vacation", { autoLiftAt: at(NOW, { days: -1 }) }),
      otherOpen: await addPause("pl-other", "manual_review"), // no auto lift: stays open
      future: await addPause("pl-future", "vacation", { autoLiftAt: at(NOW, { days: 1 }) }),
      done: await addPause("pl-done", "vacation", { autoLiftAt: at(NOW, { days: -3 }), liftedAt: at(NOW, { days: -3 }) }),
      twoA: await addPause("pl-two", "vacation", { autoLiftAt: at(NOW, { days: -1 }) }),
      twoB: await addPause("pl-two", "parental_leave", { autoLiftAt: at(NOW, { days: -2 }) }),
      edge: await addPause("pl-edge", "vacation", { autoLiftAt: "2030-03-10T02:00:00Z" }), // due exactly now, other format
    };
  }

  it("lifts due pauses, keeps those whose mentor still has an expired certification", async () => {
    const ids = await prepare();
    const summary = await run(liftExpiredPauses, ctx(NOW));
    expect(summary).toEqual({ pauses_checked: 6, lifted: 5, kept: 1, errors: 0 });

    const lifted = await rows<{ pause_id: number }>(
      "SELECT pause_id FROM pauses WHERE lifted_at = ? ORDER BY pause_id",
      NOW.toISOString(),
    );
    expect(lifted.map((r) => r.pause_id)).toEqual([ids.lift, ids.other, ids.twoA, ids.twoB, ids.edge]);
    expect(await mentorStatus("pl-lift")).toBe("active");
    expect(await mentorStatus("pl-two")).toBe("active"); // both of its pauses lifted
    expect(await mentorStatus("pl-edge")).toBe("active");
    expect(await mentorStatus("pl-kept")).toBe("paused");
    expect(await mentorStatus("pl-other")).toBe("paused"); // manual_review is still open
    expect(await mentorStatus("pl-future")).toBe("paused");

    // One pause_lifted notice per lifted pause.
    const notices = await rows<{ dedupe_key: string; payload: string }>(
      "SELECT dedupe_key, payload FROM notification_outbox WHERE kind = 'pause_lifted' ORDER BY notification_id",
    );
    expect(notices.map((n) => n.dedupe_key)).toEqual([ids.lift, ids.other, ids.twoA, ids.twoB, ids.edge].map((id) => `pause-lifted:${id}`));
    expect(JSON.parse(notices[0]!.payload)).toEqual({
      mentor_id: "pl-lift",
      name: "Mentor pl-lift",
      email: "pl-lift@example.org",
      pause_id: ids.lift,
      reason: "vacation",
      paused_at: "2030-01-01T00:00:00.000Z",
      lifted_at: NOW.toISOString(),
    });
  });

  it("dry run returns the real run's summary and writes nothing; a rerun lifts nothing", async () => {
    await prepare();
    const before = await snapshot();
    const dry = await run(liftExpiredPauses, ctx(NOW, { dryRun: true }));
    expect(await snapshot()).toEqual(before);

    const real = await run(liftExpiredPauses, ctx(NOW));
    expect(real).toEqual(dry);
    const afterFirst = await snapshot();

    const again = await run(liftExpiredPauses, ctx(NOW));
    expect(again).toEqual({ pauses_checked: 1, lifted: 0, kept: 1, errors: 0 });
    expect(await snapshot()).toEqual(afterFirst);
  });

  it("counts bad rows in errors and processes the rest", async () => {
    await addMentor("pl-badlift", { status: "paused", certs: [{ id: "pl-badlift1", expiresAt: at(NOW, { days: 100 }) }] });
    await addMentor("pl-badcert", { status: "paused", certs: [{ id: "pl-badcert1", expiresAt: "someday" }] });
    await addMentor("pl-fine", { status: "paused", certs: [{ id: "pl-fine1", expiresAt: at(NOW, { days: 100 }) }] });
    const badLift = await addPause("pl-badlift", "vacation", { autoLiftAt: "next tuesday" });
    const badCert = await addPause("pl-badcert", "vacation", { autoLiftAt: at(NOW, { days: -1 }) });
    const fine = await addPause("pl-fine", "vacation", { autoLiftAt: at(NOW, { days: -1 }) });

    // The unreadable auto_lift_at is not known to be due (not checked); the
    // unreadable certification makes a due pause an error, left open.
    expect(await run(liftExpiredPauses, ctx(NOW))).toEqual({ pauses_checked: 2, lifted: 1, kept: 0, errors: 2 });
    const open = await rows<{ pause_id: number }>("SELECT pause_id FROM pauses WHERE lifted_at IS NULL ORDER BY pause_id");
    expect(open.map((r) => r.pause_id)).toEqual([badLift, badCert]);
    expect(fine).toBeGreaterThan(0);
    expect(await mentorStatus("pl-fine")).toBe("active");
    expect(await mentorStatus("pl-badcert")).toBe("paused");
  });
});

describe("generateWeeklyExpiryReport", () => {
  async function prepare(): Promise<void> {
    await addMentor("wr-a", {
      certs: [
        { id: "wr-a1", expiresAt: at(NOW, { days: 2 }), name: "First Aid" },
        { id: "wr-a2", expiresAt: at(NOW, { days: 40 }) },
      ],
    });
    await addMentor("wr-b", {
      certs: [
        { id: "wr-b1", expiresAt: at(NOW, { days: 7 }) },
        { id: "wr-b2", expiresAt: at(NOW, { days: -1 }) }, // expired: not "expiring"
      ],
    });
    await addMentor("wr-c", {
      status: "paused",
      certs: [
        { id: "wr-c1", expiresAt: at(NOW, { days: 10 }) },
        { id: "wr-c2", expiresAt: at(NOW, { days: 30 }) },
        { id: "wr-c3", expiresAt: "garbage" },
      ],
    });
    await addPause("wr-c", "vacation", { autoLiftAt: at(NOW, { days: 3 }), pausedAt: at(NOW, { days: -4 }) });
    await addPause("wr-c", "certification_expired", { pausedAt: at(NOW, { days: -2 }) });
    await addPause("wr-c", "old", { liftedAt: at(NOW, { days: -9 }) }); // lifted: not listed
    await addMentor("wr-d", { status: "paused" }); // paused by hand, no pause row
  }

  it("stores one report listing what expires within 7 and 30 days and who is paused", async () => {
    await prepare();
    const summary = await run(generateWeeklyExpiryReport, ctx(NOW, { runId: "run-0100" }));
    expect(summary).toEqual({
      expiring_7_days: 2,
      expiring_30_days: 4,
      paused_mentors: 2,
      unreadable_certifications: 1,
      reports_stored: 1,
    });

    const stored = await rows<{ kind: string; run_id: string; generated_at: string; body: string }>(
      "SELECT kind, run_id, generated_at, body FROM reports",
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ kind: "weekly_expiry_summary", run_id: "run-0100", generated_at: NOW.toISOString() });
    const body = JSON.parse(stored[0]!.body);
    expect(body.expiring_7_days).toEqual([
      { mentor_id: "wr-a", name: "Mentor wr-a", certification_id: "wr-a1", certification_name: "First Aid", expires_at: at(NOW, { days: 2 }) },
      { mentor_id: "wr-b", name: "Mentor wr-b", certification_id: "wr-b1", certification_name: "Cert wr-b1", expires_at: at(NOW, { days: 7 }) },
    ]);
    expect(body.expiring_30_days.map((e: { certification_id: string }) => e.certification_id)).toEqual([
      "wr-a1",
      "wr-b1",
      "wr-c1",
      "wr-c2",
    ]);
    expect(body.paused_mentors).toEqual([
      {
        mentor_id: "wr-c",
        name: "Mentor wr-c",
        open_pauses: [
          { reason: "vacation", paused_at: at(NOW, { days: -4 }), auto_lift_at: at(NOW, { days: 3 }) },
          { reason: "certification_expired", paused_at: at(NOW, { days: -2 }), auto_lift_at: null },
        ],
      },
      { mentor_id: "wr-d", name: "Mentor wr-d", open_pauses: [] },
    ]);
    expect(body.unreadable_certifications).toEqual([{ certification_id: "wr-c3", expires_at: "garbage" }]);
  });

  it("dry run reports what a real run would store, and stores nothing", async () => {
    await prepare();
    const before = await snapshot();
    const dry = await run(generateWeeklyExpiryReport, ctx(NOW, { dryRun: true, runId: "run-0200" }));
    expect(await snapshot()).toEqual(before);
    expect(dry.reports_stored).toBe(1);
    expect(await run(generateWeeklyExpiryReport, ctx(NOW, { runId: "run-0200" }))).toEqual(dry);
  });

  it("stores the report once per job and run id", async () => {
    await prepare();
    const first = await run(generateWeeklyExpiryReport, ctx(NOW, { runId: "run-0300", jobId: 7, jobName: "weekly" }));
    expect(first).toMatchObject({ reports_stored: 1 });
    const afterFirst = await snapshot();
    // The same run stepped again once done (its object restarted): the finished run's result, nothing new.
    expect(await run(generateWeeklyExpiryReport, ctx(NOW, { runId: "run-0300", jobId: 7, jobName: "weekly" }))).toEqual(first);
    expect(await snapshot()).toEqual(afterFirst);
    // Run ids are per job: another job's run-0300 stores its own, and so does the next run.
    expect(await run(generateWeeklyExpiryReport, ctx(NOW, { runId: "run-0300", jobId: 8, jobName: "weekly-2" }))).toMatchObject({ reports_stored: 1 });
    expect(await run(generateWeeklyExpiryReport, ctx(NOW, { runId: "run-0301", jobId: 7, jobName: "weekly" }))).toMatchObject({ reports_stored: 1 });
    expect(await rows("SELECT job_id, job_name, run_id FROM reports ORDER BY job_id, run_id")).toEqual([
      { job_id: 7, job_name: "weekly", run_id: "run-0300" },
      { job_id: 7, job_name: "weekly", run_id: "run-0301" },
      { job_id: 8, job_name: "weekly-2", run_id: "run-0300" },
    ]);
  });
});

describe("the demo seed", () => {
  // The seed's times are relative to SQLite's 'now' when it is applied, so this
  // test takes the handlers' `now` from the same clock, just after applying it.
  async function applySeed(): Promise<void> {
    const statements = seedSql.split("\n").filter((line) => line.startsWith("INSERT"));
    await DB.batch(statements.map((s) => DB.prepare(s)));
  }

  it("loads idempotently and gives the built-in jobs something to do", async () => {
    await applySeed();
    await applySeed();
    const now = new Date();
    const [counts] = await rows<{ mentors: number; certs: number; pauses: number }>(
      "SELECT (SELECT count(*) FROM mentors) AS mentors, (SELECT count(*) FROM certifications) AS certs, (SELECT count(*) FROM pauses) AS pauses",
    );
    expect(counts).toEqual({ mentors: 90, certs: 135, pauses: 3 });

    expect(await run(checkCertificationExpiry, ctx(now, { runId: "run-seed-1" }))).toEqual({
      mentors_checked: 87,
      expired_found: 4,
      auto_paused: 3,
      reminders_sent: 6,
      errors: 0,
    });
    const windows = await rows<{ dedupe_key: string }>(
      "SELECT dedupe_key FROM notification_outbox WHERE kind = 'cert_expiry_reminder' ORDER BY mentor_id",
    );
    expect(windows.map((r) => r.dedupe_key.split(":")[2])).toEqual(["1", "1", "7", "7", "30", "30"]);

    expect(await run(liftExpiredPauses, ctx(now, { runId: "run-seed-2" }))).toEqual({
      pauses_checked: 3,
      lifted: 2,
      kept: 1,
      errors: 0,
    });
    expect(await mentorStatus("mentor-010")).toBe("active");
    expect(await mentorStatus("mentor-011")).toBe("active");
    expect(await mentorStatus("mentor-012")).toBe("paused");

    expect(await run(generateWeeklyExpiryReport, ctx(now, { runId: "run-seed-3" }))).toEqual({
      expiring_7_days: 4,
      expiring_30_days: 6,
      paused_mentors: 4,
      unreadable_certifications: 0,
      reports_stored: 1,
    });
  });
});

describe("the handler registry", () => {
  it("holds the built-ins only in the service; the test Worker's adds its own beside them, and none replaces a built-in", () => {
    expect(handlerNames(BUILT_IN_HANDLERS)).toEqual(["checkCertificationExpiry", "generateWeeklyExpiryReport", "liftExpiredPauses"]);
    expect(BUILT_IN_HANDLERS.has("testNoop")).toBe(false);
    expect(TEST_HANDLERS.has("testNoop")).toBe(true);
    expect(TEST_HANDLERS.get("liftExpiredPauses")).toBe(liftExpiredPauses);

    const impostor = oneStep(async () => ({}));
    const registry = handlerRegistry({ checkCertificationExpiry: impostor, extra: impostor });
    expect(registry.get("checkCertificationExpiry")).toBe(checkCertificationExpiry);
    expect(registry.get("extra")).toBe(impostor);
  });
});
