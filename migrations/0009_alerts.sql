-- Deadlines, alerts and metrics (issue 13).

-- Per-job settings (README "Alerts", docs/alerts.md).
ALTER TABLE jobs ADD COLUMN start_deadline_seconds INTEGER NOT NULL DEFAULT 600;
ALTER TABLE jobs ADD COLUMN finish_deadline_seconds INTEGER;       -- NULL: no finish deadline
ALTER TABLE jobs ADD COLUMN alert_after_failures INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN pause_after_failures INTEGER;          -- NULL: never paused by policy
ALTER TABLE jobs ADD COLUMN alerts_enabled INTEGER NOT NULL DEFAULT 1;

-- An alert: a job did not do its work in time (missed, late), keeps failing, or
-- was paused by its policy. It opens when the condition first holds and is
-- resolved when the job next succeeds on time; its notifications are outbox rows
-- written in the same batch, keyed 'alert:<alert_id>:opened' / ':resolved'.
CREATE TABLE alerts (
  alert_id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL,                    -- the registration (a name registered again starts clean)
  job_name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('missed', 'late', 'failing', 'paused_by_policy')),
  scheduled_for TEXT,                         -- the instant it concerns, if any
  run_no INTEGER,                             -- the run it concerns, if any (run_id 'run-' || printf('%04d', run_no))
  message TEXT NOT NULL,
  opened_at TEXT NOT NULL,
  resolved_at TEXT,
  resolution TEXT                             -- what resolved it, in words
);
-- One open alert per (job, kind), whatever happens meanwhile: a second opening is a no-op.
CREATE UNIQUE INDEX alerts_open ON alerts (job_id, kind) WHERE resolved_at IS NULL;
CREATE INDEX alerts_job ON alerts (job_name, alert_id);
CREATE INDEX alerts_resolved ON alerts (job_id, resolved_at);
CREATE INDEX alerts_open_list ON alerts (alert_id) WHERE resolved_at IS NULL;

-- Monotonic run counters for /metrics (runs are pruned; these never go down).
-- Keyed by name: a name deleted and registered again keeps counting.
CREATE TABLE run_counters (
  job_name TEXT NOT NULL,
  status TEXT NOT NULL,                       -- success | failed | skipped
  total INTEGER NOT NULL,
  PRIMARY KEY (job_name, status)
) WITHOUT ROWID;

-- Where each registration stands after its last finished real run: the failure
-- streak (alert_after_failures, pause_after_failures) and the metrics' last values.
CREATE TABLE job_run_stats (
  job_id INTEGER PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL,
  last_success_at TEXT,
  last_finished_at TEXT,
  last_duration_ms INTEGER
);

-- Both are maintained by triggers, so every write that finishes a run (one
-- statement in its record's batch) counts it exactly once: a repeated record
-- inserts nothing and finishes nothing, so it counts nothing. Dry runs are not counted.
-- The two bodies are the same (SQLite triggers cannot share one): a run written finished
-- at once (most scheduled runs) is counted on insert, one written running first on its finish.
CREATE TRIGGER runs_count_insert AFTER INSERT ON runs
WHEN NEW.dry_run = 0 AND NEW.status IN ('success', 'failed', 'skipped')
BEGIN
  INSERT INTO run_counters (job_name, status, total) VALUES (NEW.job_name, NEW.status, 1)
    ON CONFLICT (job_name, status) DO UPDATE SET total = total + 1;
  INSERT INTO job_run_stats (job_id, consecutive_failures, last_success_at, last_finished_at, last_duration_ms)
    SELECT NEW.job_id, NEW.status = 'failed', IIF(NEW.status = 'success', NEW.completed_at, NULL), NEW.completed_at, NEW.duration_ms
    WHERE NEW.status <> 'skipped'
    ON CONFLICT (job_id) DO UPDATE SET
      consecutive_failures = IIF(NEW.status = 'failed', consecutive_failures + 1, 0),
      last_success_at = IIF(NEW.status = 'success', NEW.completed_at, last_success_at),
      last_finished_at = NEW.completed_at,
      last_duration_ms = NEW.duration_ms;
END;

CREATE TRIGGER runs_count_finish AFTER UPDATE OF status ON runs
WHEN OLD.status = 'running' AND NEW.dry_run = 0 AND NEW.status IN ('success', 'failed')
BEGIN
  INSERT INTO run_counters (job_name, status, total) VALUES (NEW.job_name, NEW.status, 1)
    ON CONFLICT (job_name, status) DO UPDATE SET total = total + 1;
  INSERT INTO job_run_stats (job_id, consecutive_failures, last_success_at, last_finished_at, last_duration_ms)
    VALUES (NEW.job_id, NEW.status = 'failed', IIF(NEW.status = 'success', NEW.completed_at, NULL), NEW.completed_at, NEW.duration_ms)
    ON CONFLICT (job_id) DO UPDATE SET
      consecutive_failures = IIF(NEW.status = 'failed', consecutive_failures + 1, 0),
      last_success_at = IIF(NEW.status = 'success', NEW.completed_at, last_success_at),
      last_finished_at = NEW.completed_at,
      last_duration_ms = NEW.duration_ms;
END;
