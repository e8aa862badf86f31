-- Delivery (issue 12): every outbox row carries its delivery state. SQLite cannot
-- drop NOT NULL from mentor_id (messages to coordinators have no mentor), so the
-- table is rebuilt: same ids, same dedupe_key uniqueness, AUTOINCREMENT kept.

CREATE TABLE notification_outbox_v2 (
  notification_id INTEGER PRIMARY KEY AUTOINCREMENT,
  dedupe_key TEXT NOT NULL UNIQUE,            -- e.g. cert-expiry-reminder:<certification_id>:<window_days>
  mentor_id TEXT,                             -- NULL: addressed to coordinators (weekly report, alerts)
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,                      -- JSON
  created_at TEXT NOT NULL,
  created_by_run TEXT,                        -- the run id the API shows (run-0094); with job_name it is unique
  job_name TEXT,                              -- the job whose run wrote the row (run ids are per job)
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,        -- sending attempts that reached a receiver or failed (not backpressure)
  last_error TEXT,
  delivered_to TEXT,                          -- JSON array of the targets that accepted it ("webhook", "email:a@b")
  next_attempt_at TEXT,                       -- pending/failed: when it is (re)queued; the sweep requeues late rows
  lease_until TEXT,                           -- sending: the claim holds until then
  lease_token TEXT,                           -- sending: which claim holds it
  sent_at TEXT
);

INSERT INTO notification_outbox_v2
  (notification_id, dedupe_key, mentor_id, kind, payload, created_at, created_by_run, status, sent_at)
SELECT notification_id, dedupe_key, mentor_id, kind, payload, created_at, created_by_run,
       CASE WHEN sent_at IS NULL THEN 'pending' ELSE 'sent' END, sent_at
FROM notification_outbox;

DROP TABLE notification_outbox;
ALTER TABLE notification_outbox_v2 RENAME TO notification_outbox;

-- The sweep: unsent rows by when they are due; expired leases.
CREATE INDEX outbox_due ON notification_outbox (status, next_attempt_at);
-- The run's deliveries and enqueueing a run's rows.
CREATE INDEX outbox_run ON notification_outbox (created_by_run, job_name);
CREATE INDEX outbox_mentor ON notification_outbox (mentor_id);
-- Retention: sent rows by age.
CREATE INDEX outbox_sent ON notification_outbox (sent_at) WHERE status = 'sent';
