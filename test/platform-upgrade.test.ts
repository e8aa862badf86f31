import { applyD1Migrations, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { columnsOf, dropEverything, indexesOf, userTables } from "./helpers/fresh-db";

// An existing deployment applied 0001, 0002_platform.sql (platform tables, outbox
// and reports together) and 0003 before the platform tables became their own
// set. Taking the new code and applying both sets must change nothing it has.

const TABLES = ["mentors", "certifications", "pauses", "notification_outbox", "reports"];

async function schemaOf() {
  const out: Record<string, unknown> = {};
  for (const table of TABLES) out[table] = { columns: await columnsOf(table), indexes: await indexesOf(table) };
  return out;
}

describe("an existing deployment upgrading to the split migration sets", () => {
  it("applies both sets without error, keeps its data, and ends with the same schema as a fresh database", async () => {
    // This file's database was migrated fresh by the setup file: the reference.
    const fresh = await schemaOf();

    await dropEverything();
    const old = [...env.TEST_MIGRATIONS.filter((m) => m.name < "0004"), ...env.TEST_LEGACY_MIGRATIONS].sort((a, b) => a.name.localeCompare(b.name));
    expect(old.map((m) => m.name)).toEqual(["0001_scheduler.sql", "0002_platform.sql", "0003_builtin_jobs.sql"]);
    await applyD1Migrations(env.DB, old);
    await env.DB.batch([
      env.DB.prepare("INSERT INTO mentors (mentor_id, name, email, status, created_at) VALUES ('u-1', 'Ana', 'ana@example.org', 'paused', '2026-01-01T00:00:00.000Z')"),
      env.DB.prepare("INSERT INTO certifications VALUES ('uc-1', 'u-1', 'First aid', '2026-02-01T00:00:00.000Z')"),
      env.DB.prepare("INSERT INTO pauses (mentor_id, reason, paused_at) VALUES ('u-1', 'certification_expired', '2026-02-02T02:00:00.000Z')"),
      env.DB.prepare("INSERT INTO notification_outbox (dedupe_key, mentor_id, kind, payload, created_at) VALUES ('k', 'u-1', 'cert_expiry_reminder', '{}', '2026-01-25T02:00:00.000Z')"),
      env.DB.prepare("INSERT INTO notification_outbox (dedupe_key, mentor_id, kind, payload, created_at, sent_at) VALUES ('k-sent', 'u-1', 'cert_expiry_reminder', '{}', '2026-01-18T02:00:00.000Z', '2026-01-18T02:00:05.000Z')"),
      // The weekly report's run: old run ids were global ('run-' || seq), so 0008 finds the report's job through it.
      env.DB.prepare("INSERT INTO runs (seq, job_id, job_name, triggered_by, status, started_at) VALUES (1, 7, 'weekly-report', 'cron', 'success', '2026-01-26T00:00:00.000Z')"),
      env.DB.prepare("INSERT INTO reports (kind, run_id, generated_at, body) VALUES ('weekly', 'run-0001', '2026-01-26T00:00:00.000Z', '{}')"),
      env.DB.prepare("INSERT INTO reports (kind, run_id, generated_at, body) VALUES ('weekly', 'run-0099', '2026-01-19T00:00:00.000Z', '{}')"),
    ]);
    const before = await Promise.all(TABLES.map((t) => env.DB.prepare(`SELECT * FROM ${t}`).all().then((r) => r.results)));

    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    await applyD1Migrations(env.DB, env.TEST_PLATFORM_MIGRATIONS, "d1_migrations_platform");

    // Every row keeps its values; only the columns later migrations add are new, with what
    // those migrations give old rows: 0007 an outbox row's delivery state (sent if it was
    // sent), 0008 a report's job, found through its run (NULL when that run is gone).
    const unsentOutbox = { job_name: null, status: "pending", attempts: 0, last_error: null, delivered_to: null, next_attempt_at: null, lease_until: null, lease_token: null };
    const added: Record<string, Record<string, unknown>[]> = {
      notification_outbox: [unsentOutbox, { ...unsentOutbox, status: "sent" }],
      reports: [
        { job_id: 7, job_name: "weekly-report" },
        { job_id: null, job_name: null },
      ],
    };
    const after = await Promise.all(TABLES.map((t) => env.DB.prepare(`SELECT * FROM ${t}`).all().then((r) => r.results)));
    expect(after).toEqual(before.map((rows, i) => rows.map((row, j) => ({ ...row, ...(added[TABLES[i]!]?.[j] ?? {}) }))));
    expect(await schemaOf()).toEqual(fresh);
    expect(await userTables()).toContain("d1_migrations_platform");
    // 0002 stays recorded as applied; the new files are recorded beside it.
    const applied = (await env.DB.prepare("SELECT name FROM d1_migrations ORDER BY id").all<{ name: string }>()).results.map((r) => r.name);
    expect(applied.slice(0, 3)).toEqual(["0001_scheduler.sql", "0002_platform.sql", "0003_builtin_jobs.sql"]);
    expect(applied).toContain("0005_scheduler_outbox_reports.sql");
  });
});
