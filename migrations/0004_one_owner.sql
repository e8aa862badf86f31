-- One owner per job (issue 10): a version on every job, raised by every change,
-- and run ids allocated per job by the job's Durable Object.

-- Checked by every write to a job's configuration (If-Match, and the owner's own writes).
ALTER TABLE jobs ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- The run's number within its registration (run_id is 'run-' || printf('%04d', run_no)).
-- Existing runs keep the id they were shown with: their global seq is unique per job too.
ALTER TABLE runs ADD COLUMN run_no INTEGER;
UPDATE runs SET run_no = seq;
CREATE UNIQUE INDEX runs_job_run_no ON runs (job_id, run_no);
