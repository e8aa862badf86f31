-- The job registry, run records, the audit trail and a maintained job count.
-- Times are ISO-8601 UTC strings with a Z (they sort as text).

CREATE TABLE jobs (
  job_id INTEGER PRIMARY KEY AUTOINCREMENT,   -- a new id for every registration of a name
  job_name TEXT NOT NULL UNIQUE,
  cron_expression TEXT NOT NULL,
  timezone TEXT NOT NULL DEFAULT 'UTC',
  handler TEXT NOT NULL,
  is_active INTEGER NOT NULL DEFAULT 1,
  overlap_policy TEXT NOT NULL DEFAULT 'skip',
  misfire_policy TEXT NOT NULL DEFAULT 'run_once',
  catchup_window_seconds INTEGER NOT NULL DEFAULT 86400,
  max_retries INTEGER NOT NULL DEFAULT 0,
  timeout_seconds INTEGER NOT NULL DEFAULT 300,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_run_seq INTEGER,
  last_run_at TEXT,
  last_run_status TEXT,
  next_run_at TEXT
);
CREATE INDEX jobs_active_next ON jobs (is_active, next_run_at);

CREATE TABLE runs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,      -- run_id is 'run-' || printf('%04d', seq)
  job_id INTEGER NOT NULL,
  job_name TEXT NOT NULL,
  scheduled_for TEXT,                         -- NULL for a manual run
  catch_up INTEGER NOT NULL DEFAULT 0,
  triggered_by TEXT NOT NULL,
  dry_run INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,                       -- running | success | failed | skipped
  attempts INTEGER NOT NULL DEFAULT 0,
  started_at TEXT NOT NULL,
  completed_at TEXT,
  duration_ms INTEGER,
  result_summary TEXT,                        -- JSON
  error TEXT
);
-- A scheduled instant is run at most once per registration, however often its alarm fires.
CREATE UNIQUE INDEX runs_job_instant ON runs (job_id, scheduled_for) WHERE scheduled_for IS NOT NULL;
CREATE INDEX runs_job_seq ON runs (job_id, seq);
CREATE INDEX runs_status ON runs (status) WHERE status = 'running';

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  action TEXT NOT NULL,                       -- register | update | pause | resume | trigger | dry_run | delete
  job_name TEXT NOT NULL,
  actor TEXT NOT NULL,                        -- token fingerprint, never the token
  request_id TEXT,
  source_ip TEXT,
  user_agent TEXT,
  before TEXT,                                -- JSON
  after TEXT                                  -- JSON
);
CREATE INDEX audit_job_seq ON audit_log (job_name, seq);

-- COUNT(*) scans every row; the list endpoint reads this one row instead.
CREATE TABLE job_count (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  total INTEGER NOT NULL
);
INSERT INTO job_count (id, total) VALUES (1, 0);
CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
  UPDATE job_count SET total = total + 1 WHERE id = 1;
END;
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_count SET total = total - 1 WHERE id = 1;
END;
