import { sql } from "drizzle-orm";
import type { Db } from "../db/client";

/** What /metrics shows per job: its registration's times and last duration (job_run_stats, kept by triggers on runs). */
export interface JobMetricsRow {
  jobName: string;
  lastRunAt: string | null;
  nextRunAt: string | null;
  lastSuccessAt: string | null;
  lastDurationMs: number | null;
}

/** Every registered job, by name (the only label: its cardinality is the number of jobs). */
export function jobMetrics(db: Db): Promise<JobMetricsRow[]> {
  return db.all<JobMetricsRow>(sql`
    SELECT j.job_name AS jobName, j.last_run_at AS lastRunAt, j.next_run_at AS nextRunAt,
           s.last_success_at AS lastSuccessAt, s.last_duration_ms AS lastDurationMs
    FROM jobs j LEFT JOIN job_run_stats s ON s.job_id = j.job_id
    ORDER BY j.job_name`);
}

/** The monotonic run counters of the names registered now (a deleted name's series stops; it resumes if registered again). */
export function runCounts(db: Db): Promise<{ jobName: string; status: string; total: number }[]> {
  return db.all(sql`
    SELECT c.job_name AS jobName, c.status AS status, c.total AS total
    FROM run_counters c JOIN jobs j ON j.job_name = c.job_name
    ORDER BY c.job_name, c.status`);
}

/** Open alerts per registered job and kind. */
export function openAlertCounts(db: Db): Promise<{ jobName: string; kind: string; open: number }[]> {
  return db.all(sql`
    SELECT a.job_name AS jobName, a.kind AS kind, count(*) AS open
    FROM alerts a JOIN jobs j ON j.job_id = a.job_id
    WHERE a.resolved_at IS NULL
    GROUP BY a.job_name, a.kind`);
}
