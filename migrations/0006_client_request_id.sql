-- Issue 14: the audit's request_id is always the server's own id; a client's
-- X-Request-Id (length- and charset-limited) is kept apart, as its claim.
ALTER TABLE audit_log ADD COLUMN client_request_id TEXT;
-- Retention (src/services/retention.ts): audit rows by age, and the runs of a
-- deleted registration found through its job_name (the audit's delete row has the name).
CREATE INDEX audit_at ON audit_log (at);
CREATE INDEX runs_job_name ON runs (job_name, job_id);
