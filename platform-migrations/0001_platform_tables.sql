-- The mentoring platform's own tables that the built-in jobs read (and, for
-- pauses and mentors.status, write): the OPTIONAL migration set.
--   Apply it when the scheduler keeps its own copy of the platform's data (the
--   import API fills it):  wrangler d1 migrations apply PLATFORM_TABLES --remote
--   Skip it when the platform's Worker binds the same D1 database and already
--   has these tables; they must then match docs/platform-data.md.
-- Tracked in its own table (d1_migrations_platform, see wrangler.toml), apart
-- from the scheduler's set. IF NOT EXISTS throughout: deployments that applied
-- the old 0002_platform.sql already have every object here, unchanged.

CREATE TABLE IF NOT EXISTS mentors (
  mentor_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',      -- active | paused
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mentors_status ON mentors (status);

CREATE TABLE IF NOT EXISTS certifications (
  certification_id TEXT PRIMARY KEY,
  mentor_id TEXT NOT NULL REFERENCES mentors (mentor_id),
  name TEXT NOT NULL,
  expires_at TEXT NOT NULL                    -- ISO-8601 UTC instant
);
CREATE INDEX IF NOT EXISTS certifications_mentor ON certifications (mentor_id);
CREATE INDEX IF NOT EXISTS certifications_expiry ON certifications (expires_at);

CREATE TABLE IF NOT EXISTS pauses (
  pause_id INTEGER PRIMARY KEY AUTOINCREMENT,
  mentor_id TEXT NOT NULL REFERENCES mentors (mentor_id),
  reason TEXT NOT NULL,                       -- e.g. certification_expired, vacation
  paused_at TEXT NOT NULL,
  auto_lift_at TEXT,                          -- NULL: lifted by hand only
  lifted_at TEXT,
  created_by_run TEXT
);
-- One open pause per mentor and reason: pausing again changes nothing.
CREATE UNIQUE INDEX IF NOT EXISTS pauses_open ON pauses (mentor_id, reason) WHERE lifted_at IS NULL;
CREATE INDEX IF NOT EXISTS pauses_due ON pauses (auto_lift_at) WHERE lifted_at IS NULL;
