-- The mentoring platform's data that the built-in handlers act on.

CREATE TABLE mentors (
  mentor_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',      -- active | paused
  created_at TEXT NOT NULL
);
CREATE INDEX mentors_status ON mentors (status);

CREATE TABLE certifications (
  certification_id TEXT PRIMARY KEY,
  mentor_id TEXT NOT NULL REFERENCES mentors (mentor_id),
  name TEXT NOT NULL,
  expires_at TEXT NOT NULL                    -- ISO-8601 UTC instant
);
CREATE INDEX certifications_mentor ON certifications (mentor_id);
CREATE INDEX certifications_expiry ON certifications (expires_at);

CREATE TABLE pauses (
  pause_id INTEGER PRIMARY KEY AUTOINCREMENT,
  mentor_id TEXT NOT NULL REFERENCES mentors (mentor_id),
  reason TEXT NOT NULL,                       -- e.g. certification_expired, vacation
  paused_at TEXT NOT NULL,
  auto_lift_at TEXT,                          -- NULL: lifted by hand only
  lifted_at TEXT,
  created_by_run TEXT
);
-- One open pause per mentor and reason: pausing again changes nothing.
CREATE UNIQUE INDEX pauses_open ON pauses (mentor_id, reason) WHERE lifted_at IS NULL;
CREATE INDEX pauses_due ON pauses (auto_lift_at) WHERE lifted_at IS NULL;

CREATE TABLE notification_outbox (
  notification_id INTEGER PRIMARY KEY AUTOINCREMENT,
  dedupe_key TEXT NOT NULL UNIQUE,            -- e.g. cert-reminder:<certification_id>:<window_days>
  mentor_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,                      -- JSON
  created_at TEXT NOT NULL,
  created_by_run TEXT,
  sent_at TEXT
);

CREATE TABLE reports (
  report_id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  run_id TEXT NOT NULL,
  generated_at TEXT NOT NULL,
  body TEXT NOT NULL,                         -- JSON
  UNIQUE (kind, run_id)
);
