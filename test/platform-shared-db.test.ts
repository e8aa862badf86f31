import { applyD1Migrations, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { call, registerJob, uniqueName } from "./helpers/api";
import { columnsOf, dropEverything, userTables } from "./helpers/fresh-db";
import { settled } from "./helpers/scheduler";

// The shared-database deployment (README "Deploy", docs/platform-data.md): the
// platform's own Worker created mentors, certifications and pauses in its own
// way, in the D1 database this scheduler binds too. The scheduler applies ONLY
// its own migration set, and its handlers work on the platform's tables.

const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

// The platform's schema: the contract's columns, plus columns of its own (with
// defaults, as the contract asks), and no created_at, which the handlers never read.
const PLATFORM_SCHEMA = `
CREATE TABLE mentors (
  mentor_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',
  phone TEXT,
  timezone TEXT NOT NULL DEFAULT 'Europe/Lisbon'
);
CREATE TABLE certifications (
  certification_id TEXT PRIMARY KEY,
  mentor_id TEXT NOT NULL REFERENCES mentors (mentor_id),
  name TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  issuer TEXT
);
CREATE TABLE pauses (
  pause_id INTEGER PRIMARY KEY AUTOINCREMENT,
  mentor_id TEXT NOT NULL REFERENCES mentors (mentor_id),
  reason TEXT NOT NULL,
  paused_at TEXT NOT NULL,
  auto_lift_at TEXT,
  lifted_at TEXT,
  created_by_run TEXT,
  note TEXT
);
CREATE UNIQUE INDEX platform_one_open_pause ON pauses (mentor_id, reason) WHERE lifted_at IS NULL;
`;

async function run(sql: string) {
  for (const statement of sql.split(";").map((s) => s.trim()).filter(Boolean)) await env.DB.prepare(statement).run();
}

async function trigger(jobName: string) {
  const res = await call("POST", `/jobs/${jobName}/trigger`, { body: { triggered_by: "shared-db-test" } });
  expect(res.status).toBe(202);
  await settled(jobName);
  const last = await call("GET", `/jobs/${jobName}/last-result`);
  expect(last.json).toMatchObject({ run_id: res.json.run_id, status: "success" });
  return last.json.result_summary;
}

beforeAll(async () => {
  // Before this file's first request: a database that holds only the platform's tables and data.
  await dropEverything();
  await run(PLATFORM_SCHEMA);
  await run(`
    INSERT INTO mentors (mentor_id, name, email, status, phone) VALUES
      ('p-expired', 'Ana', 'ana@example.org', 'active', '+351 1'),
      ('p-soon', 'Bo', 'bo@example.org', 'active', NULL),
      ('p-fine', 'Cy', 'cy@example.org', 'active', NULL),
      ('p-vacation', 'Di', 'di@example.org', 'paused', NULL);
    INSERT INTO certifications (certification_id, mentor_id, name, expires_at, issuer) VALUES
      ('pc-1', 'p-expired', 'First aid', '${inDays(-3)}', 'Red Cross'),
      ('pc-2', 'p-soon', 'Safeguarding', '${inDays(5)}', NULL),
      ('pc-3', 'p-fine', 'Safeguarding', '${inDays(200)}', NULL),
      ('pc-4', 'p-vacation', 'Safeguarding', '${inDays(200)}', NULL);
    INSERT INTO pauses (mentor_id, reason, paused_at, auto_lift_at, note) VALUES
      ('p-vacation', 'vacation', '${inDays(-10)}', '${inDays(-1)}', 'back on Monday')
  `);
  // Only the scheduler's own set: the platform-tables set is skipped.
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
});

describe("a shared database: the platform's tables exist, the scheduler applies only its own migrations", () => {
  it("adds the scheduler's tables and leaves the platform's as the platform made them", async () => {
    const tables = await userTables();
    for (const own of ["jobs", "runs", "audit_log", "notification_outbox", "reports", "d1_migrations"]) expect(tables).toContain(own);
    expect(tables).not.toContain("d1_migrations_platform");
    expect((await columnsOf("mentors")).map((c) => c.name)).toEqual(["mentor_id", "name", "email", "status", "phone", "timezone"]);
    expect((await columnsOf("certifications")).map((c) => c.name)).toContain("issuer");
    const applied = await env.DB.prepare("SELECT name FROM d1_migrations ORDER BY id").all<{ name: string }>();
    expect(applied.results.map((r) => r.name)).toEqual(env.TEST_MIGRATIONS.map((m) => m.name));
    const touchesPlatform = /\b(TABLE|INTO|UPDATE|FROM|ON)\s+"?(mentors|certifications|pauses)\b/i;
    expect(env.TEST_MIGRATIONS.filter((m) => m.queries.some((q) => touchesPlatform.test(q))).map((m) => m.name)).toEqual([]);
  });

  it("/health counts the platform's active mentors", async () => {
    const health = await call("GET", "/health", { token: null });
    expect(health.status).toBe(200);
    expect(health.json.platform).toEqual({ status: "ok", active_mentors: 3 });
  });

  it("the nightly check pauses, reminds and reports over the platform's own tables", async () => {
    expect(await trigger("certification-expiry-nightly")).toEqual({
      mentors_checked: 3,
      expired_found: 1,
      auto_paused: 1,
      reminders_sent: 1,
      errors: 0,
    });
    const pause = await env.DB.prepare("SELECT reason, lifted_at, note FROM pauses WHERE mentor_id = 'p-expired'").first();
    expect(pause).toEqual({ reason: "certification_expired", lifted_at: null, note: null });
    const mentor = await env.DB.prepare("SELECT status, phone, timezone FROM mentors WHERE mentor_id = 'p-expired'").first();
    expect(mentor).toEqual({ status: "paused", phone: "+351 1", timezone: "Europe/Lisbon" });
    // The reminder, and the paused mentor's own notice (issue 12).
    const outbox = await env.DB.prepare("SELECT mentor_id, kind FROM notification_outbox ORDER BY mentor_id, kind").all();
    expect(outbox.results).toEqual([
      { mentor_id: "p-expired", kind: "mentor_paused" },
      { mentor_id: "p-soon", kind: "cert_expiry_reminder" },
    ]);

    // The platform reactivates the mentor by hand; the next check pauses again, and the
    // platform's unique open-pause index keeps it at one open pause.
    await env.DB.prepare("UPDATE mentors SET status = 'active' WHERE mentor_id = 'p-expired'").run();
    expect(await trigger("certification-expiry-nightly")).toMatchObject({ auto_paused: 1, reminders_sent: 0 });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM pauses WHERE mentor_id = 'p-expired'").first("n")).toBe(1);
  });

  it("the auto-lift check lifts the platform's vacation pause, and the weekly report reads its tables", async () => {
    await trigger("pause-auto-lift-check");
    const lifted = await env.DB.prepare("SELECT lifted_at, note FROM pauses WHERE mentor_id = 'p-vacation'").first<{ lifted_at: string | null; note: string }>();
    expect(lifted?.lifted_at).toMatch(/Z$/);
    expect(lifted?.note).toBe("back on Monday");
    expect(await env.DB.prepare("SELECT status FROM mentors WHERE mentor_id = 'p-vacation'").first("status")).toBe("active");

    const weekly = uniqueName("shared-weekly");
    expect((await registerJob(weekly, { handler: "generateWeeklyExpiryReport" })).status).toBe(201);
    await trigger(weekly);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM reports").first("n")).toBe(1);
  });
});
