import type { Db } from "../db/client";

/** What a handler gets for one run. */
export interface HandlerContext {
  db: Db;
  /** The run's reference time; handlers never read the clock themselves. */
  now: Date;
  /** Compute exactly the summary a real run would return, and change nothing. */
  dryRun: boolean;
  /** The run's API run_id ("run-0094"): unique within the job, so stored beside the job's name. */
  runId: string;
  jobId: number;
  jobName: string;
}

/** Counts of what a run did (or, in a dry run, would do). */
export type ResultSummary = Record<string, number>;

export type JobHandler = (ctx: HandlerContext) => Promise<ResultSummary>;
