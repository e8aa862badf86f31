-- Long runs go step by step (issue 11). Each step of a run commits its
-- effects, the whole run's counters so far and the cursor after it in ONE D1
-- batch together with its row here; the primary key makes a replayed step's
-- batch fail and roll back, so no effect and no count happens twice.
-- When a run finishes, its earlier rows are deleted in the same batch: one row per finished run remains.
CREATE TABLE run_steps (
  job_id INTEGER NOT NULL,
  run_id TEXT NOT NULL,                       -- the API run id; unique only within its job
  step_no INTEGER NOT NULL,                   -- 1, 2, ...
  done INTEGER NOT NULL,
  cursor TEXT,                                -- JSON: where the next step starts; NULL once done
  processed INTEGER NOT NULL,                 -- rows handled by all steps so far
  total INTEGER,                              -- counted once at step 1; NULL when unknown
  summary TEXT NOT NULL,                      -- JSON: the whole run's counters up to this step
  committed_at TEXT NOT NULL,
  PRIMARY KEY (job_id, run_id, step_no)
) WITHOUT ROWID;

-- Run ids are per job now, so a report names its job beside the run id.
-- Keyed by job_id, not job_name: a name deleted and registered again starts
-- its run ids over, and its new reports must not collide with the old ones.
-- Rows stored before this migration had globally unique run ids ('run-' || seq):
-- their job is found through runs.seq.
CREATE TABLE reports_v2 (
  report_id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  job_id INTEGER,
  job_name TEXT,
  run_id TEXT NOT NULL,
  generated_at TEXT NOT NULL,
  body TEXT NOT NULL,                         -- JSON, counts and the first entries of each list (< 1 MB)
  UNIQUE (kind, job_id, run_id)
);
INSERT INTO reports_v2 (report_id, kind, job_id, job_name, run_id, generated_at, body)
SELECT r.report_id, r.kind, runs.job_id, runs.job_name, r.run_id, r.generated_at, r.body
FROM reports r
LEFT JOIN runs ON r.run_id GLOB 'run-[0-9]*' AND runs.seq = CAST(substr(r.run_id, 5) AS INTEGER);
DROP TABLE reports;
ALTER TABLE reports_v2 RENAME TO reports;

-- A report's full lists, one row per entry, in the order the report lists them
-- (sort_key). The report row keeps only counts and the first entries: a list
-- of a large platform does not fit D1's 1 MB row.
CREATE TABLE report_items (
  kind TEXT NOT NULL,
  job_id INTEGER NOT NULL,
  run_id TEXT NOT NULL,
  list TEXT NOT NULL,                         -- expiring_7_days | expiring_30_days | paused_mentors | unreadable_certifications
  sort_key TEXT NOT NULL,
  item TEXT NOT NULL,                         -- JSON, one list entry
  PRIMARY KEY (kind, job_id, run_id, list, sort_key)
) WITHOUT ROWID;
