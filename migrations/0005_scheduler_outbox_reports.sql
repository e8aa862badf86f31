-- The scheduler's own tables for what the built-in jobs produce: the
-- notification outbox and the reports. They used to be created, together with
-- the platform's tables, by 0002_platform.sql. That file left this set (kept
-- in test/fixtures/legacy-migrations/ for the upgrade test) so that a platform
-- that already has `mentors`, `certifications` and `pauses` in a shared
-- database can apply this set without a clash; those three are now the
-- separate, optional set in platform-migrations/ (see docs/platform-data.md).
--
-- Deployments that applied 0002 already have both tables: IF NOT EXISTS makes
-- this file a no-op for them, and wrangler ignores an applied file it no
-- longer finds. The definitions are 0002's, unchanged.

CREATE TABLE IF NOT EXISTS notification_outbox (
  notification_id INTEGER PRIMARY KEY AUTOINCREMENT,
  dedupe_key TEXT NOT NULL UNIQUE,            -- e.g. cert-reminder:<certification_id>:<window_days>
  mentor_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,                      -- JSON
  created_at TEXT NOT NULL,
  created_by_run TEXT,
  sent_at TEXT
);

CREATE TABLE IF NOT EXISTS reports (
  report_id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  run_id TEXT NOT NULL,
  generated_at TEXT NOT NULL,
  body TEXT NOT NULL,                         -- JSON
  UNIQUE (kind, run_id)
);
