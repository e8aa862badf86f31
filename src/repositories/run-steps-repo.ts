import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { runSteps, type RunStepRow } from "../db/run-steps-schema";

// The step ledger: one row per committed step of a run. Its primary key
// (job_id, run_id, step_no) is what makes a step commit at most once.

export type StepRow = RunStepRow;

/** The run's last committed step, or undefined before its first. One indexed read. */
export async function readLastStep(db: Db, jobId: number, runId: string): Promise<StepRow | undefined> {
  const [row] = await db
    .select()
    .from(runSteps)
    .where(and(eq(runSteps.jobId, jobId), eq(runSteps.runId, runId)))
    .orderBy(desc(runSteps.stepNo))
    .limit(1);
  return row;
}

/** The step's ledger row, for the batch that applies its effects. */
export function insertStep(db: Db, row: StepRow): BatchItem<"sqlite"> {
  return db.insert(runSteps).values(row);
}

/** Drops a finished run's earlier rows (the last one carries the whole run's counters). */
export function deleteStepsBefore(db: Db, jobId: number, runId: string, stepNo: number): BatchItem<"sqlite"> {
  return db
    .delete(runSteps)
    .where(and(eq(runSteps.jobId, jobId), eq(runSteps.runId, runId), lt(runSteps.stepNo, stepNo)));
}

/** True when a D1 error is the ledger's primary key refusing a step that is already committed. */
export function isStepConflict(error: unknown): boolean {
  const text = String(error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : error);
  return /UNIQUE constraint failed: run_steps\./.test(text);
}

/**
 * Deletes up to `limit` ledger rows committed before `before`, finished runs'
 * and abandoned ones' alike. Bounded, so one pass is one short statement.
 */
export async function deleteStepsCommittedBefore(db: Db, before: string, limit: number): Promise<number> {
  const oldest = db
    .select({ jobId: runSteps.jobId, runId: runSteps.runId, stepNo: runSteps.stepNo })
    .from(runSteps)
    .where(lt(runSteps.committedAt, before))
    .limit(limit);
  const result = await db.run(
    sql`DELETE FROM ${runSteps} WHERE (${runSteps.jobId}, ${runSteps.runId}, ${runSteps.stepNo}) IN (${oldest})`,
  );
  return result.meta.changes ?? 0;
}
