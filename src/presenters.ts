import { policyOf } from "./db/job-policy";
import type { AlertRow } from "./db/alerts-schema";
import type { JobRow, RunRow } from "./db/schema";
import { formatRunId } from "./lib/ids";
import { iso } from "./lib/instants";
import { runErrorFields } from "./lib/run-errors";
import type { JobSummaryRow } from "./repositories/jobs-repo";

/** D1 rows to the contract's JSON: snake_case fields, times to the second with a Z. */

const isoOrNull = (value: string | null) => (value === null ? null : iso(new Date(value)));

export function jobSummary(row: JobSummaryRow) {
  return {
    job_name: row.jobName,
    cron_expression: row.cronExpression,
    timezone: row.timezone,
    is_active: row.isActive,
    last_run_at: isoOrNull(row.lastRunAt),
    last_run_status: row.lastRunStatus as "running" | "success" | "failed" | null,
    next_run_at: isoOrNull(row.nextRunAt),
    version: row.version,
  };
}

/** The answer to a registration: the contract's fields, the time zone and the version. */
export function registeredJob(row: JobRow) {
  const { job_name, cron_expression, timezone, is_active, next_run_at, version } = jobSummary(row);
  return { job_name, cron_expression, timezone, is_active, created_at: iso(new Date(row.createdAt)), next_run_at, version };
}

export function jobDetail(row: JobRow, upcoming: Date[]) {
  return {
    ...jobSummary(row),
    handler: row.handler,
    ...policyOf(row),
    created_at: iso(new Date(row.createdAt)),
    updated_at: iso(new Date(row.updatedAt)),
    upcoming_runs: upcoming.map((d) => iso(d)),
  };
}

/** How far a running run has got, as its handler counts it (the last committed step). */
export type Progress = { processed: number; total: number | null };

/** `detail`: the request was made with a valid key, so the raw error may be shown (error_detail). */
export function run(row: RunRow, detail = false, progress?: Progress) {
  return {
    run_id: formatRunId(row.runNo),
    status: row.status,
    scheduled_for: isoOrNull(row.scheduledFor),
    catch_up: row.catchUp,
    triggered_by: row.triggeredBy,
    dry_run: row.dryRun,
    attempts: row.attempts,
    started_at: iso(new Date(row.startedAt)),
    completed_at: isoOrNull(row.completedAt),
    duration_ms: row.durationMs,
    result_summary: row.resultSummary ?? null,
    ...runErrorFields(row.status, row.error, detail),
    ...(progress ? { progress } : {}),
  };
}

export function lastResult(row: RunRow, detail = false) {
  return {
    job_name: row.jobName,
    run_id: formatRunId(row.runNo),
    started_at: iso(new Date(row.startedAt)),
    completed_at: isoOrNull(row.completedAt),
    status: row.status as "running" | "success" | "failed",
    result_summary: row.resultSummary ?? null,
    ...runErrorFields(row.status, row.error, detail),
    ...(row.dryRun ? { dry_run: true as const } : {}),
    triggered_by: row.triggeredBy,
    attempts: row.attempts,
  };
}

export function alert(row: AlertRow) {
  return {
    alert_id: `alert-${row.alertId}`,
    kind: row.kind,
    job_name: row.jobName,
    scheduled_for: isoOrNull(row.scheduledFor),
    run_id: row.runNo === null ? null : formatRunId(row.runNo),
    message: row.message,
    opened_at: iso(new Date(row.openedAt)),
    resolved_at: isoOrNull(row.resolvedAt),
    resolution: row.resolution,
  };
}
