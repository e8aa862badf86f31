import type { JobRow } from "../db/schema";

/** What a job's Durable Object needs to know about its job; D1 is the source of truth. */
export interface JobConfig {
  jobId: number;
  jobName: string;
  cronExpression: string;
  timezone: string;
  handler: string;
  isActive: boolean;
  overlapPolicy: "skip" | "allow";
  misfirePolicy: "run_once" | "skip";
  catchupWindowSeconds: number;
  maxRetries: number;
  timeoutSeconds: number;
}

export function configFromRow(row: JobRow): JobConfig {
  return {
    jobId: row.jobId,
    jobName: row.jobName,
    cronExpression: row.cronExpression,
    timezone: row.timezone,
    handler: row.handler,
    isActive: row.isActive,
    overlapPolicy: row.overlapPolicy,
    misfirePolicy: row.misfirePolicy,
    catchupWindowSeconds: row.catchupWindowSeconds,
    maxRetries: row.maxRetries,
    timeoutSeconds: row.timeoutSeconds,
  };
}

/** True if the two configs schedule the same way (the fields the object acts on). */
export function sameSchedule(a: JobConfig, b: JobConfig): boolean {
  return (
    a.jobId === b.jobId &&
    a.cronExpression === b.cronExpression &&
    a.timezone === b.timezone &&
    a.handler === b.handler &&
    a.isActive === b.isActive &&
    a.overlapPolicy === b.overlapPolicy &&
    a.misfirePolicy === b.misfirePolicy &&
    a.catchupWindowSeconds === b.catchupWindowSeconds &&
    a.maxRetries === b.maxRetries &&
    a.timeoutSeconds === b.timeoutSeconds
  );
}

/** Exponential backoff between attempts: 1 s, 2 s, 4 s ... capped at 5 minutes. */
export function retryDelayMs(failedAttempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, failedAttempts - 1), 300_000);
}
