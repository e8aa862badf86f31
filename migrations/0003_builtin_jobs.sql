-- The two built-in jobs from the contract. next_run_at stays NULL until the
-- supervisor arms them (first request, its alarm or the Cron Trigger), which
-- computes it from the cron expression. A migration runs once, so a built-in
-- job that an operator deletes stays deleted.
INSERT INTO jobs (job_name, cron_expression, timezone, handler, is_active, created_at, updated_at)
VALUES
  ('certification-expiry-nightly', '0 2 * * *', 'UTC', 'checkCertificationExpiry', 1,
   strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  ('pause-auto-lift-check', '0 6 * * *', 'UTC', 'liftExpiredPauses', 1,
   strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
