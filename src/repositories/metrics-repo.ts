import { asc, count, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { alerts, jobRunStats, runCounters } from "../db/alerts-schema";
import { jobs } from "../db/schema";

/** What /metrics shows per job: its registration's times and last duration (job_run_stats, kept by triggers on runs). */
export function jobMetrics(db: Db) {
  return db
    .select({
      jobName: jobs.jobName,
      lastRunAt: jobs.lastRunAt,
      nextRunAt: jobs.nextRunAt,
      lastSuccessAt: jobRunStats.lastSuccessAt,
      lastDurationMs: jobRunStats.lastDurationMs,
    })
    .from(jobs)
    .leftJoin(jobRunStats, eq(jobRunStats.jobId, jobs.jobId))
    .orderBy(asc(jobs.jobName));
}

/** The monotonic run counters of the names registered now (a deleted name's series stops; it resumes if registered again). */
export function runCounts(db: Db) {
  return db
    .select({ jobName: runCounters.jobName, status: runCounters.status, total: runCounters.total })
    .from(runCounters)
    .innerJoin(jobs, eq(jobs.jobName, runCounters.jobName));
}

/** Open alerts per registered job and kind. */
export function openAlertCounts(db: Db) {
  return db
    .select({ jobName: alerts.jobName, kind: alerts.kind, open: count() })
    .from(alerts)
    .innerJoin(jobs, eq(jobs.jobId, alerts.jobId))
    .where(isNull(alerts.resolvedAt))
    .groupBy(alerts.jobName, alerts.kind);
}
