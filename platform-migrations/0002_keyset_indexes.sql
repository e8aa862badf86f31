-- Indexes on the platform's own tables for the built-in handlers' keyset pages
-- (issue 11). In the platform set, so a platform that brings its own tables
-- adds them with its own migrations (docs/platform-data.md names them).
-- Keyset pages walk an index in the page's own order, one page per step.
-- With mentors_status (status) alone SQLite takes that index and sorts every
-- active mentor for each page: (status, mentor_id) replaces it (its prefix
-- serves every status lookup). The partial index on pause_id is the lift
-- job's scan (open pauses with an auto-lift time, by id); without it SQLite
-- takes pauses_due and sorts.
DROP INDEX IF EXISTS mentors_status;
CREATE INDEX IF NOT EXISTS mentors_status_id ON mentors (status, mentor_id);
CREATE INDEX IF NOT EXISTS pauses_open_auto_lift ON pauses (pause_id) WHERE lifted_at IS NULL AND auto_lift_at IS NOT NULL;
