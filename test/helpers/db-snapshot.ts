import { env } from "cloudflare:test";

/**
 * What a refused request must not change, read straight from D1.
 *
 * Counts and highest sequence numbers catch any insert or delete; the digest
 * of the jobs' own settings catches an update. Fields the scheduler itself
 * moves in the background (next_run_at, last_run_*, a run's status) are left
 * out on purpose: an earlier test's run finishing is not this request's doing.
 */
export interface DbSnapshot {
  jobs: number;
  max_job_id: number;
  runs: number;
  max_run_seq: number;
  audit: number;
  max_audit_seq: number;
  job_count: number;
  jobs_digest: string;
}

const SNAPSHOT_SQL = `
SELECT
  (SELECT count(*) FROM jobs) AS jobs,
  (SELECT coalesce(max(job_id), 0) FROM jobs) AS max_job_id,
  (SELECT count(*) FROM runs) AS runs,
  (SELECT coalesce(max(seq), 0) FROM runs) AS max_run_seq,
  (SELECT count(*) FROM audit_log) AS audit,
  (SELECT coalesce(max(seq), 0) FROM audit_log) AS max_audit_seq,
  (SELECT total FROM job_count WHERE id = 1) AS job_count,
  (SELECT coalesce(group_concat(line, char(10)), '') FROM (
     SELECT job_id || '|' || job_name || '|' || cron_expression || '|' || timezone || '|' || handler || '|' ||
            is_active || '|' || overlap_policy || '|' || misfire_policy || '|' || catchup_window_seconds || '|' ||
            max_retries || '|' || timeout_seconds || '|' || created_at || '|' || updated_at AS line
     FROM jobs ORDER BY job_id
  )) AS jobs_digest`;

export async function dbSnapshot(): Promise<DbSnapshot> {
  const row = await env.DB.prepare(SNAPSHOT_SQL).first<DbSnapshot>();
  if (!row) throw new Error("snapshot query returned no row");
  return row;
}

/** Rows of the audit trail for one job, oldest first, as stored. */
export async function auditRows(jobName: string): Promise<Record<string, unknown>[]> {
  const { results } = await env.DB.prepare("SELECT * FROM audit_log WHERE job_name = ? ORDER BY seq").bind(jobName).all();
  return results;
}

/** Runs recorded for one job name (any registration), oldest first. */
export async function runRows(jobName: string): Promise<Record<string, unknown>[]> {
  const { results } = await env.DB.prepare("SELECT * FROM runs WHERE job_name = ? ORDER BY seq").bind(jobName).all();
  return results;
}

export async function jobRow(jobName: string): Promise<Record<string, unknown> | null> {
  return env.DB.prepare("SELECT * FROM jobs WHERE job_name = ?").bind(jobName).first();
}
