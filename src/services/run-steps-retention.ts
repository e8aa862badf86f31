import type { Db } from "../db/client";
import { DAY_MS } from "../lib/instants";
import { deleteStepsCommittedBefore } from "../repositories/run-steps-repo";

/**
 * How long a run's step ledger is kept. A finished run keeps one row (its
 * whole summary), which a late second call of its last step reads instead of
 * starting the run over; an unfinished one is dead long before this (a run's
 * timeout_seconds is at most one day).
 */
export const RUN_STEPS_KEPT_DAYS = 7;
const ROWS_PER_PASS = 1_000;

/** The supervisor's periodic pruning of the step ledger (issue 11). Returns the rows deleted. */
export function pruneRunSteps(db: Db, now: Date): Promise<number> {
  return deleteStepsCommittedBefore(db, new Date(now.getTime() - RUN_STEPS_KEPT_DAYS * DAY_MS).toISOString(), ROWS_PER_PASS);
}
