import { and, desc, eq, lt, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { runs, type RunRow } from "../db/schema";

/**
 * The writes a run makes. Each is one D1 batch (one round trip, one
 * transaction), and each is safe to repeat: a scheduled instant can be
 * inserted once per registration (unique index), and a finished run is never
 * finished again.
 */

export interface ScheduledRun {
  jobId: number;
  jobName: string;
  scheduledFor: string;
  catchUp: boolean;
  startedAt: string;
  attempts: number;
  /** The job's next instant as its object holds it now; written to D1 with the run. */
  nextRunAt: string | null;
}

export interface Recorded {
  /** The run's sequence number; null if this instant was already recorded otherwise. */
  seq: number | null;
  /** False if D1 no longer has this registration active: the object's schedule is stale. */
  jobActive: boolean;
}

// "This batch's run is the one recorded for the instant, with this start": the job's
// last_run_* move only then, and only forwards (runs may overlap).
const OURS = `EXISTS (SELECT 1 FROM runs WHERE job_id = ?1 AND scheduled_for = ?3 AND started_at = ?4)
              AND (last_run_at IS NULL OR last_run_at <= ?4)`;
const RUN_OF_INSTANT = "(SELECT seq FROM runs WHERE job_id = ?1 AND scheduled_for = ?3)";

function moveJob(d1: D1Database, run: ScheduledRun, status: string): D1PreparedStatement {
  // Expressions in an UPDATE read the row as it was, so the condition is repeated per column.
  return d1
    .prepare(
      `UPDATE jobs SET next_run_at = ?2,
         last_run_seq = IIF(${OURS}, ${RUN_OF_INSTANT}, last_run_seq),
         last_run_status = IIF(${OURS}, ?5, last_run_status),
         last_run_at = IIF(${OURS}, ?4, last_run_at)
       WHERE job_id = ?1 AND is_active = 1 RETURNING job_id`,
    )
    .bind(run.jobId, run.nextRunAt, run.scheduledFor, run.startedAt, status);
}

/**
 * Records a scheduled run that is taking a while as `running` (the write a
 * short run never needs: see recordScheduledRun), and moves next_run_at.
 * Inserted once per instant: the unique index refuses a second.
 */
export async function admitScheduledRun(db: Db, run: ScheduledRun): Promise<Recorded> {
  const d1 = db.$client;
  const [inserted, updated] = await d1.batch<{ seq?: number; job_id?: number }>([
    d1
      .prepare(
        `INSERT INTO runs (job_id, job_name, scheduled_for, catch_up, triggered_by, dry_run, status, attempts, started_at)
         VALUES (?1, ?2, ?3, ?4, 'scheduler', 0, 'running', ?5, ?6)
         ON CONFLICT DO NOTHING RETURNING seq`,
      )
      .bind(run.jobId, run.jobName, run.scheduledFor, run.catchUp ? 1 : 0, run.attempts, run.startedAt),
    moveJob(d1, run, "running"),
  ]);
  return { seq: inserted?.results[0]?.seq ?? null, jobActive: (updated?.results.length ?? 0) === 1 };
}

export interface ScheduledOutcome {
  status: "success" | "failed";
  completedAt: string;
  durationMs: number;
  resultSummary: Record<string, unknown> | null;
  error: string | null;
}

/**
 * The one D1 write of a scheduled run: its final record and the job's fields,
 * in one batch. Upserts over the `running` row if the run was admitted early,
 * but never over a finished one: an instant is recorded once. The run is
 * recorded even if the job was deleted meanwhile; the job row only moves if active.
 */
export async function recordScheduledRun(db: Db, run: ScheduledRun, outcome: ScheduledOutcome): Promise<Recorded> {
  const d1 = db.$client;
  const [recorded, updated] = await d1.batch<{ seq?: number; job_id?: number }>([
    d1
      .prepare(
        `INSERT INTO runs (job_id, job_name, scheduled_for, catch_up, triggered_by, dry_run, status, attempts,
                           started_at, completed_at, duration_ms, result_summary, error)
         VALUES (?1, ?2, ?3, ?4, 'scheduler', 0, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (job_id, scheduled_for) WHERE scheduled_for IS NOT NULL DO UPDATE SET
           status = excluded.status, attempts = excluded.attempts, completed_at = excluded.completed_at,
           duration_ms = excluded.duration_ms, result_summary = excluded.result_summary, error = excluded.error
         WHERE runs.status = 'running' AND runs.started_at = excluded.started_at
         RETURNING seq`,
      )
      .bind(
        run.jobId,
        run.jobName,
        run.scheduledFor,
        run.catchUp ? 1 : 0,
        outcome.status,
        run.attempts,
        run.startedAt,
        outcome.completedAt,
        outcome.durationMs,
        outcome.resultSummary === null ? null : JSON.stringify(outcome.resultSummary),
        outcome.error,
      ),
    moveJob(d1, run, outcome.status),
  ]);
  return { seq: recorded?.results[0]?.seq ?? null, jobActive: (updated?.results.length ?? 0) === 1 };
}

export interface RecordSkipped {
  jobId: number;
  jobName: string;
  scheduledFor: string;
  at: string;
  reason: string;
  nextRunAt: string | null;
}

/** Records a scheduled instant that was not run (overlap or misfire policy) and moves next_run_at. */
export async function recordSkippedRun(db: Db, skip: RecordSkipped): Promise<Recorded> {
  const d1 = db.$client;
  const [inserted, updated] = await d1.batch<{ seq?: number; job_id?: number }>([
    d1
      .prepare(
        `INSERT INTO runs (job_id, job_name, scheduled_for, triggered_by, dry_run, status, attempts, started_at, completed_at, duration_ms, error)
         SELECT ?1, ?2, ?3, 'scheduler', 0, 'skipped', 0, ?4, ?4, 0, ?5
         WHERE EXISTS (SELECT 1 FROM jobs WHERE job_id = ?1 AND is_active = 1)
         ON CONFLICT DO NOTHING RETURNING seq`,
      )
      .bind(skip.jobId, skip.jobName, skip.scheduledFor, skip.at, skip.reason),
    d1
      .prepare(`UPDATE jobs SET next_run_at = ?2 WHERE job_id = ?1 AND is_active = 1 RETURNING job_id`)
      .bind(skip.jobId, skip.nextRunAt),
  ]);
  return { seq: inserted?.results[0]?.seq ?? null, jobActive: (updated?.results.length ?? 0) === 1 };
}

export interface AdmitManual {
  jobId: number;
  jobName: string;
  triggeredBy: string;
  dryRun: boolean;
  startedAt: string;
  /** Who asked, for the audit row written in the same transaction as the run. */
  audit: { actor: string; requestId: string | null; clientRequestId: string | null; sourceIp: string | null; userAgent: string | null };
}

/**
 * Inserts a manual run and its audit row, in one transaction. A dry run does not become the job's last_run_* (those
 * describe real executions); it is still the newest run in its history.
 */
export async function admitManualRun(db: Db, run: AdmitManual): Promise<number | null> {
  const d1 = db.$client;
  const statements = [
    d1
      .prepare(
        `INSERT INTO runs (job_id, job_name, scheduled_for, catch_up, triggered_by, dry_run, status, attempts, started_at)
         SELECT ?1, ?2, NULL, 0, ?3, ?4, 'running', 1, ?5
         WHERE EXISTS (SELECT 1 FROM jobs WHERE job_id = ?1) RETURNING seq`,
      )
      .bind(run.jobId, run.jobName, run.triggeredBy, run.dryRun ? 1 : 0, run.startedAt),
  ];
  if (!run.dryRun) {
    statements.push(
      d1
        .prepare(
          `UPDATE jobs SET last_run_seq = last_insert_rowid(), last_run_at = ?2, last_run_status = 'running'
           WHERE job_id = ?1 AND EXISTS (SELECT 1 FROM runs WHERE seq = last_insert_rowid() AND job_id = ?1 AND started_at = ?2)`,
        )
        .bind(run.jobId, run.startedAt),
    );
  }
  statements.push(
    d1
      .prepare(
        `INSERT INTO audit_log (at, action, job_name, actor, request_id, source_ip, user_agent, before, after, client_request_id)
         SELECT ?3, ?4, ?2, ?5, ?6, ?7, ?8, NULL,
                json_object('run_id', 'run-' || printf('%04d', last_insert_rowid()), 'triggered_by', ?9, 'dry_run', json(?10)), ?11
         WHERE EXISTS (SELECT 1 FROM runs WHERE seq = last_insert_rowid() AND job_id = ?1 AND started_at = ?3)`,
      )
      .bind(
        run.jobId,
        run.jobName,
        run.startedAt,
        run.dryRun ? "dry_run" : "trigger",
        run.audit.actor,
        run.audit.requestId,
        run.audit.sourceIp,
        run.audit.userAgent,
        run.triggeredBy,
        run.dryRun ? "true" : "false",
        run.audit.clientRequestId,
      ),
  );
  const [inserted] = await d1.batch<{ seq: number }>(statements);
  return inserted?.results[0]?.seq ?? null;
}

export interface FinishRun {
  seq: number;
  jobId: number;
  status: "success" | "failed";
  attempts: number;
  completedAt: string;
  durationMs: number;
  resultSummary: Record<string, unknown> | null;
  error: string | null;
}

/** Closes a running run; does nothing if it was already closed (e.g. timed out). */
export async function finishRun(db: Db, finish: FinishRun): Promise<boolean> {
  const d1 = db.$client;
  const [closed] = await d1.batch([
    d1
      .prepare(
        `UPDATE runs SET status = ?2, attempts = ?3, completed_at = ?4, duration_ms = ?5, result_summary = ?6, error = ?7
         WHERE seq = ?1 AND status = 'running' RETURNING seq`,
      )
      .bind(
        finish.seq,
        finish.status,
        finish.attempts,
        finish.completedAt,
        finish.durationMs,
        finish.resultSummary === null ? null : JSON.stringify(finish.resultSummary),
        finish.error,
      ),
    d1
      .prepare(
        `UPDATE jobs SET last_run_status = ?3
         WHERE job_id = ?1 AND last_run_seq = ?2
           AND EXISTS (SELECT 1 FROM runs WHERE seq = ?2 AND status = ?3 AND completed_at = ?4)`,
      )
      .bind(finish.jobId, finish.seq, finish.status, finish.completedAt),
  ]);
  return (closed?.results.length ?? 0) === 1;
}

/** Records that a retry is starting, so `attempts` is visible while a run is still going. */
export async function setAttempts(db: Db, seq: number, attempts: number): Promise<void> {
  await db.update(runs).set({ attempts }).where(and(eq(runs.seq, seq), eq(runs.status, "running")));
}

/** The newest run of a registration that actually executed (skipped instants are not runs). */
export function latestRun(db: Db, jobId: number): Promise<RunRow | undefined> {
  return db
    .select()
    .from(runs)
    .where(and(eq(runs.jobId, jobId), ne(runs.status, "skipped")))
    .orderBy(desc(runs.seq))
    .limit(1)
    .get();
}

/** Runs of a registration, newest first, older than `beforeSeq` if given. */
export function listRuns(db: Db, jobId: number, limit: number, beforeSeq?: number): Promise<RunRow[]> {
  const where = beforeSeq === undefined ? eq(runs.jobId, jobId) : and(eq(runs.jobId, jobId), lt(runs.seq, beforeSeq));
  return db.select().from(runs).where(where).orderBy(desc(runs.seq)).limit(limit);
}

/** Deletes finished runs of a registration beyond the newest `keep`. Returns how many. */
export async function pruneRuns(db: Db, jobId: number, keep: number): Promise<number> {
  const result = await db.$client
    .prepare(
      `DELETE FROM runs WHERE job_id = ?1 AND status != 'running'
         AND seq < (SELECT seq FROM runs WHERE job_id = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)`,
    )
    .bind(jobId, keep - 1)
    .run();
  return result.meta.changes ?? 0;
}
