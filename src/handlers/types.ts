import type { Db } from "../db/client";

/** What a handler gets for one step of one run. */
export interface HandlerContext {
  db: Db;
  /** The run's reference time, the same for every step of one run; handlers never read the clock themselves. */
  now: Date;
  /** Compute exactly the summary a real run would return, and change nothing on the platform. */
  dryRun: boolean;
  /** The API run id ("run-0094"); unique only within its job, so stored beside jobId/jobName. */
  runId: string;
  jobId: number;
  jobName: string;
}

/** Counts of what a run did (or, in a dry run, would do). */
export type ResultSummary = Record<string, number>;

export interface StepResult {
  done: boolean;
  /** The WHOLE run's counters so far (all committed steps). */
  summary: ResultSummary;
  progress: { processed: number; total: number | null };
}

export interface JobHandler {
  /**
   * One bounded step. Resumes after the last committed step (its cursor lives
   * in D1); safe to call again after a crash, and after the run is done (it
   * then returns the finished run's result and changes nothing).
   */
  step(ctx: HandlerContext): Promise<StepResult>;
}
