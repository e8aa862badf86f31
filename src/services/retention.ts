import type { Db } from "../db/client";
import type { Env } from "../env";
import { DAY_MS, isoMs } from "../lib/instants";
import { logEvent } from "../lib/log";
import { auditRetentionDays, runRetentionDays } from "../lib/settings";
import { pruneAudit, pruneRunsByKind, pruneRunsOfDeletedJobs, type RunCaps } from "../repositories/retention-repo";

/**
 * What is kept, and for how long (README, "Security"):
 * - per job, the newest RUN_CAPS.real real runs, RUN_CAPS.skipped skipped instants and
 *   RUN_CAPS.dry dry runs, each counted apart (so dry runs or skips never push out the
 *   real history); never a running run, never the run last_run_* / last-result describe;
 * - the runs of a deleted job, RUN_RETENTION_DAYS (30) after its deletion;
 * - audit rows, AUDIT_RETENTION_DAYS (400); each pruning is itself audited, as a count.
 * Every statement deletes a bounded number of rows, so a pass stays within D1's limits
 * however much has built up; what is left goes in the next passes.
 */
export const RUN_CAPS: RunCaps = { real: 100, skipped: 20, dry: 20 };
/** Rows one statement deletes at most. */
export const PRUNE_BATCH = 500;
/** Deletions older than this beyond their period are not looked at again (see pruneRunsOfDeletedJobs). */
const DELETED_LOOKBACK_DAYS = 7;

export interface RetentionReport {
  runs: number;
  runs_of_deleted_jobs: number;
  audit_rows: number;
}

/**
 * One retention pass. `jobIds`: the registrations whose history to cap this pass
 * (the supervisor's rolling window, at most a hundred); the rest is global and bounded.
 */
export async function runRetention(env: Env, db: Db, now: Date, jobIds: number[]): Promise<RetentionReport> {
  const runs = await pruneRunsByKind(db, jobIds, RUN_CAPS, PRUNE_BATCH);
  const runDays = runRetentionDays(env);
  const runCutoff = new Date(now.getTime() - runDays * DAY_MS);
  const runsOfDeleted = await pruneRunsOfDeletedJobs(db, isoMs(runCutoff), isoMs(runCutoff.getTime() - DELETED_LOOKBACK_DAYS * DAY_MS), PRUNE_BATCH, {
    at: isoMs(now),
    counted: "runs_of_deleted_jobs_pruned",
    details: { deleted_before: isoMs(runCutoff), run_retention_days: runDays },
  });
  const auditDays = auditRetentionDays(env);
  const auditCutoff = isoMs(now.getTime() - auditDays * DAY_MS);
  const auditRows = await pruneAudit(db, auditCutoff, PRUNE_BATCH, {
    at: isoMs(now),
    counted: "audit_rows_pruned",
    details: { older_than: auditCutoff, audit_retention_days: auditDays },
  });
  const report = { runs, runs_of_deleted_jobs: runsOfDeleted, audit_rows: auditRows };
  if (runs + runsOfDeleted + auditRows > 0) logEvent("retention.pruned", { ...report });
  return report;
}
