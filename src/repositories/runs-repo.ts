import { and, desc, eq, lt, ne, sql } from "drizzle-orm";
import { statement, type Db } from "../db/client";
import { runs, type RunRow } from "../db/schema";
import { auditStatement, type AuditEntry } from "./audit-repo";

/**
 * The writes a run makes. Each is one D1 batch (one round trip, one
 * transaction), and each is safe to repeat: a run is numbered once per
 * registration (run_no, allocated by the job's object), a scheduled instant
 * is inserted once per registration (unique index), and a finished run is
 * never finished again. No run row is ever inserted for a job that no longer
 * exists; a run written while its job existed is still finished after.
 */

/** A run as its job's object started it. */
export interface RunStart {
  jobId: number;
  jobName: string;
  runNo: number;
  /** The instant a scheduled run is for; null for a manual run. */
  scheduledFor: string | null;
  catchUp: boolean;
  triggeredBy: string;
  dryRun: boolean;
  startedAt: string;
  attempts: number;
}

/** Where the job stands as its object holds it, written with a run's record. */
export interface JobPosition {
  /** The job's version the object schedules by; next_run_at is written only while the job is still at it. */
  version: number;
  /** The job's next instant as the object holds it now. */
  nextRunAt?: string | null;
}

/** A statement of the caller's for a run's batch (its alert writes). */
export type BatchStatement = ReturnType<typeof statement>;

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/** A run written as running (not yet finished). */
function insertRunning(db: Db, run: RunStart) {
  return statement(db, sql`
    INSERT INTO runs (job_id, job_name, run_no, scheduled_for, catch_up, triggered_by, dry_run, status, attempts, started_at)
    SELECT ${run.jobId}, ${run.jobName}, ${run.runNo}, ${run.scheduledFor}, ${run.catchUp ? 1 : 0}, ${run.triggeredBy},
           ${run.dryRun ? 1 : 0}, 'running', ${run.attempts}, ${run.startedAt}
    WHERE EXISTS (SELECT 1 FROM jobs WHERE job_id = ${run.jobId})
    ON CONFLICT DO NOTHING`);
}

/**
 * A run's end, in one statement: the run inserted whole if it was never written
 * (most scheduled runs), or its running row finished (a manual run, a long one,
 * or one written by its job's deletion: then the job is gone, the row is not).
 * Nothing for a run already finished, or for another run of the same instant.
 */
function finishRun(db: Db, run: RunStart, outcome: RunOutcome) {
  return statement(db, sql`
    INSERT INTO runs (job_id, job_name, run_no, scheduled_for, catch_up, triggered_by, dry_run, status, attempts,
                      started_at, completed_at, duration_ms, result_summary, error)
    SELECT ${run.jobId}, ${run.jobName}, ${run.runNo}, ${run.scheduledFor}, ${run.catchUp ? 1 : 0}, ${run.triggeredBy},
           ${run.dryRun ? 1 : 0}, ${outcome.status}, ${run.attempts}, ${run.startedAt}, ${outcome.completedAt},
           ${outcome.durationMs}, ${json(outcome.resultSummary)}, ${outcome.error}
    WHERE EXISTS (SELECT 1 FROM jobs WHERE job_id = ${run.jobId}) OR EXISTS (SELECT 1 FROM runs WHERE job_id = ${run.jobId} AND run_no = ${run.runNo})
    ON CONFLICT (job_id, run_no) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, completed_at = excluded.completed_at,
      duration_ms = excluded.duration_ms, result_summary = excluded.result_summary, error = excluded.error
      WHERE runs.status = 'running'
    ON CONFLICT DO NOTHING`);
}

/**
 * The job's fields after a run's write: next_run_at (only while the job is at
 * the version the object scheduled by), and last_run_* when this is the
 * newest real run (runs may overlap; dry runs describe no execution).
 */
function moveJob(db: Db, run: RunStart, status: string, position: JobPosition, returning = sql``) {
  // Expressions in an UPDATE read the row as it was, so the condition is repeated per column.
  const ours = sql`(${run.dryRun ? 0 : 1} AND EXISTS (SELECT 1 FROM runs WHERE job_id = ${run.jobId} AND run_no = ${run.runNo} AND started_at = ${run.startedAt})
                   AND (last_run_at IS NULL OR last_run_at <= ${run.startedAt}))`;
  const next = position.nextRunAt === undefined ? sql`next_run_at` : sql`IIF(version = ${position.version}, ${position.nextRunAt}, next_run_at)`;
  return statement(db, sql`
    UPDATE jobs SET next_run_at = ${next},
      last_run_seq = IIF(${ours}, (SELECT seq FROM runs WHERE job_id = ${run.jobId} AND run_no = ${run.runNo}), last_run_seq),
      last_run_status = IIF(${ours}, ${status}, last_run_status),
      last_run_at = IIF(${ours}, ${run.startedAt}, last_run_at)
    WHERE job_id = ${run.jobId} ${returning}`);
}

/** The statements that write a run as running (and the job's last_run_*), for a batch of the caller's. */
export function admitRunStatements(db: Db, run: RunStart, position: JobPosition) {
  return [insertRunning(db, run), moveJob(db, run, "running", position)] as const;
}

/**
 * Writes a run as running: a manual run at once (with its audit entry, in the
 * same transaction), a scheduled one when it has been going a while. False if
 * the job no longer exists (nothing is written then).
 */
export async function admitRun(db: Db, run: RunStart, position: JobPosition, audit?: AuditEntry): Promise<boolean> {
  const [inserted] = await db.batch([
    ...admitRunStatements(db, run, position),
    ...(audit ? [auditStatement(db, audit, { jobId: run.jobId, version: position.version })] : []),
  ]);
  return (inserted.meta.changes ?? 0) === 1;
}

export interface RunOutcome {
  status: "success" | "failed";
  completedAt: string;
  durationMs: number;
  resultSummary: Record<string, unknown> | null;
  error: string | null;
}

/**
 * A run's final record and the job's fields, in one batch: inserted whole if
 * the run was never admitted (most scheduled runs: one write per run), or the
 * running row finished. `recorded` is false if nothing was recorded (finished
 * already, or the job is gone and the run was never written); `alertsOpen`
 * says whether the job has an open alert after the batch, so that a run with
 * nothing to resolve costs no alert statements.
 */
export async function recordRun(
  db: Db,
  run: RunStart,
  outcome: RunOutcome,
  position: JobPosition,
  also: readonly BatchStatement[] = [],
): Promise<{ recorded: boolean; alertsOpen: boolean; also: unknown[] }> {
  const [finished, moved, ...rest] = await db.batch([
    finishRun(db, run, outcome),
    moveJob(db, run, outcome.status, position, sql`RETURNING EXISTS (SELECT 1 FROM alerts WHERE job_id = ${run.jobId} AND resolved_at IS NULL) AS alerts_open`),
    ...also,
  ]);
  const job = (moved as { results?: { alerts_open?: number }[] }).results?.[0];
  return { recorded: (finished.meta.changes ?? 0) > 0, alertsOpen: job?.alerts_open === 1, also: rest };
}

/** Guards statements of a run's record batch: true only when this record wrote the run's end (not an earlier try's). */
export const recordedNow = (run: Pick<RunStart, "jobId" | "runNo">, completedAt: string) =>
  sql`EXISTS (SELECT 1 FROM runs WHERE job_id = ${run.jobId} AND run_no = ${run.runNo} AND completed_at = ${completedAt})`;

export interface SkippedInstant {
  jobId: number;
  jobName: string;
  runNo: number;
  scheduledFor: string;
  at: string;
  reason: string;
}

/** Records a scheduled instant that was not run (overlap or misfire policy) and moves next_run_at. */
export async function recordSkipped(db: Db, skip: SkippedInstant, position: JobPosition, also: readonly BatchStatement[] = []): Promise<unknown[]> {
  const [, , ...rest] = await db.batch([
    statement(db, sql`
      INSERT INTO runs (job_id, job_name, run_no, scheduled_for, triggered_by, dry_run, status, attempts, started_at, completed_at, duration_ms, error)
      SELECT ${skip.jobId}, ${skip.jobName}, ${skip.runNo}, ${skip.scheduledFor}, 'scheduler', 0, 'skipped', 0, ${skip.at}, ${skip.at}, 0, ${skip.reason}
      WHERE EXISTS (SELECT 1 FROM jobs WHERE job_id = ${skip.jobId})
      ON CONFLICT DO NOTHING`),
    statement(db, sql`UPDATE jobs SET next_run_at = ${position.nextRunAt ?? null} WHERE job_id = ${skip.jobId} AND version = ${position.version}`),
    ...also,
  ]);
  return rest;
}

/** Guards statements of a skipped instant's batch: true only when this very write recorded the skip. */
export const skippedNow = (skip: Pick<SkippedInstant, "jobId" | "runNo" | "at">) =>
  sql`EXISTS (SELECT 1 FROM runs WHERE job_id = ${skip.jobId} AND run_no = ${skip.runNo} AND status = 'skipped' AND started_at = ${skip.at})`;

/** Records that a retry is starting, so `attempts` is visible while a run is still going. */
export async function setAttempts(db: Db, jobId: number, runNo: number, attempts: number): Promise<void> {
  await db
    .update(runs)
    .set({ attempts })
    .where(and(eq(runs.jobId, jobId), eq(runs.runNo, runNo), eq(runs.status, "running")));
}

/** The highest run number a registration has used (for an object that lost count, or predates numbering). */
export async function lastRunNo(db: Db, jobId: number): Promise<number> {
  const row = await db.select({ runNo: sql<number | null>`max(${runs.runNo})` }).from(runs).where(eq(runs.jobId, jobId)).get();
  return row?.runNo ?? 0;
}

/** The newest run of a registration that actually executed (skipped instants are not runs). */
export function latestRun(db: Db, jobId: number): Promise<RunRow | undefined> {
  return db
    .select()
    .from(runs)
    .where(and(eq(runs.jobId, jobId), ne(runs.status, "skipped")))
    .orderBy(desc(runs.runNo))
    .limit(1)
    .get();
}

/** Runs of a registration, newest first, numbered below `beforeRunNo` if given. */
export function listRuns(db: Db, jobId: number, limit: number, beforeRunNo?: number): Promise<RunRow[]> {
  const where = beforeRunNo === undefined ? eq(runs.jobId, jobId) : and(eq(runs.jobId, jobId), lt(runs.runNo, beforeRunNo));
  return db.select().from(runs).where(where).orderBy(desc(runs.runNo)).limit(limit);
}

