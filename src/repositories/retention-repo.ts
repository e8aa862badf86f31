import { sql, type SQL } from "drizzle-orm";
import { statement, type Db } from "../db/client";
import { auditStatement } from "./audit-repo";

/** The statements retention runs; each deletes at most `limit` rows, so one pass stays small. */

export interface RunCaps {
  /** Real runs (scheduled or manual, not dry, not skipped) kept per registration. */
  real: number;
  /** Skipped instants kept per registration. */
  skipped: number;
  /** Dry runs kept per registration. */
  dry: number;
}

/**
 * One DELETE per registration, batched: beyond each kind's cap (newest kept), finished
 * runs only, never the run the job's last_run_* describe (last_run_seq). The newest
 * run of each kind is always within its cap, so last-result (the newest run that is
 * not a skipped instant) always finds its run.
 */
export async function pruneRunsByKind(db: Db, jobIds: number[], caps: RunCaps, limitPerJob: number): Promise<number> {
  if (jobIds.length === 0) return 0;
  const d1 = db.$client;
  const statement = d1.prepare(
    `DELETE FROM runs WHERE seq IN (
       SELECT seq FROM (
         SELECT seq, status, kind, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY seq DESC) AS newest
         FROM (SELECT seq, status, CASE WHEN status = 'skipped' THEN 's' WHEN dry_run = 1 THEN 'd' ELSE 'r' END AS kind
               FROM runs WHERE job_id = ?1)
       )
       WHERE status != 'running'
         AND ((kind = 'r' AND newest > ?2) OR (kind = 's' AND newest > ?3) OR (kind = 'd' AND newest > ?4))
         AND seq IS NOT (SELECT last_run_seq FROM jobs WHERE job_id = ?1)
       ORDER BY seq LIMIT ?5)`,
  );
  const results = await d1.batch(jobIds.map((id) => statement.bind(id, caps.real, caps.skipped, caps.dry, limitPerJob)));
  return results.reduce((sum, r) => sum + (r.meta.changes ?? 0), 0);
}

/** What a pruning records in the audit: the action's details beside the count. */
export interface PruneRecord {
  at: string;
  /** The count's name in the audit row's `after`, e.g. "audit_rows_pruned". */
  counted: string;
  details: Record<string, string | number>;
}

/**
 * Runs a bounded DELETE and, in the same transaction, an audit row saying how many
 * rows it deleted (only when that is not zero: a pass that prunes nothing leaves no row).
 */
async function deleteAndRecord(db: Db, del: SQL, record: PruneRecord): Promise<number> {
  // changes() in the audit row's statement is the DELETE's, the statement before it in the batch.
  const pairs = Object.entries(record.details).flatMap(([key, value]) => [sql`${key}`, sql`${value}`]);
  const after = sql`json_object(${sql.join([sql`${record.counted}`, sql`changes()`, ...pairs], sql`, `)})`;
  const [deleted] = await db.batch([
    statement(db, del),
    auditStatement(db, { at: record.at, action: "retention_prune", jobName: "", actor: "retention", before: null, after }, { when: sql`changes() > 0` }),
  ]);
  return deleted.meta.changes ?? 0;
}

/**
 * Runs of registrations that no longer exist, whose job was deleted (audit action
 * delete or register_rolled_back) before `cutoff` and not before `lookbackFrom`, and
 * which started before `cutoff`. The deletion's audit row is how its time is known.
 */
export function pruneRunsOfDeletedJobs(db: Db, cutoff: string, lookbackFrom: string, limit: number, record: PruneRecord): Promise<number> {
  const del = sql`
    DELETE FROM runs WHERE seq IN (
      SELECT r.seq FROM audit_log a JOIN runs r ON r.job_name = a.job_name
      WHERE a.action IN ('delete', 'register_rolled_back') AND a.at < ${cutoff} AND a.at >= ${lookbackFrom}
        AND r.started_at < ${cutoff} AND r.status != 'running'
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.job_id = r.job_id)
      LIMIT ${limit})`;
  return deleteAndRecord(db, del, record);
}

/** Audit rows older than `cutoff`, oldest first, at most `limit`. */
export function pruneAudit(db: Db, cutoff: string, limit: number, record: PruneRecord): Promise<number> {
  const del = sql`DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE at < ${cutoff} ORDER BY at LIMIT ${limit})`;
  return deleteAndRecord(db, del, record);
}
