import { POLICY_KEYS } from "../db/job-policy";
import type { JobRow } from "../db/schema";

const CONFIG_KEYS = ["jobId", "jobName", "version", "cronExpression", "timezone", "handler", "isActive", ...POLICY_KEYS] as const;

/**
 * What a job's Durable Object schedules by: the job's row as the object last
 * read or wrote it (D1 holds the job; the object is the only writer of it).
 */
export type JobConfig = Pick<JobRow, (typeof CONFIG_KEYS)[number]>;

/** The fields that decide when the job's instants are: a change to one moves next_run_at. */
const TIMING_KEYS = ["jobId", "cronExpression", "timezone", "isActive"] as const satisfies readonly (keyof JobConfig)[];

export function configFromRow(row: JobRow): JobConfig {
  return Object.fromEntries(CONFIG_KEYS.map((key) => [key, row[key]])) as JobConfig;
}

/** True if the object schedules by the same registration and fields. */
export function sameConfig(a: JobConfig, b: JobConfig): boolean {
  return CONFIG_KEYS.every((key) => a[key] === b[key]);
}

/** True if the two configs put the job's instants at the same times. */
export function sameTiming(a: JobConfig, b: JobConfig): boolean {
  return TIMING_KEYS.every((key) => a[key] === b[key]);
}

/** Exponential backoff between attempts: 1 s, 2 s, 4 s ... capped at 5 minutes. */
export function retryDelayMs(failedAttempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, failedAttempts - 1), 300_000);
}
