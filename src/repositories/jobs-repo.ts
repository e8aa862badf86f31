import { and, asc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { jobCount, jobs, type JobRow } from "../db/schema";
import { openAlertsColumn } from "./alerts-repo";
import { auditStatement, type AuditEntry } from "./audit-repo";
import { admitRunStatements, type RunStart } from "./runs-repo";

export type NewJob = typeof jobs.$inferInsert;
export type JobChanges = Partial<Omit<NewJob, "jobId" | "jobName" | "createdAt" | "version">>;

/** The columns a job's list entry shows. */
const summaryColumns = {
  jobId: jobs.jobId,
  jobName: jobs.jobName,
  cronExpression: jobs.cronExpression,
  timezone: jobs.timezone,
  isActive: jobs.isActive,
  lastRunAt: jobs.lastRunAt,
  lastRunStatus: jobs.lastRunStatus,
  nextRunAt: jobs.nextRunAt,
  version: jobs.version,
  openAlerts: openAlertsColumn,
};
export type JobSummaryRow = Pick<JobRow, Exclude<keyof typeof summaryColumns, "openAlerts">>;

/**
 * One page of jobs by name and the number of jobs, in one statement: the page
 * reads only its own rows (job_name is indexed) and the total comes from the
 * counter the triggers maintain, never from scanning.
 */
export async function listJobsPage(db: Db, offset: number, limit: number): Promise<{ rows: (JobSummaryRow & { openAlerts: string })[]; total: number }> {
  const page = await db
    .select({ ...summaryColumns, total: sql<number>`(SELECT total FROM job_count WHERE id = 1)` })
    .from(jobs)
    .orderBy(asc(jobs.jobName))
    .limit(limit)
    .offset(offset);
  if (page.length === 0) return { rows: [], total: await countJobs(db) };
  return { rows: page.map(({ total: _total, ...row }) => row), total: page[0]!.total };
}

/** The number of registered jobs, from the counter the triggers maintain (one row read). */
export async function countJobs(db: Db): Promise<number> {
  const row = await db.select({ total: jobCount.total }).from(jobCount).where(eq(jobCount.id, 1)).get();
  return row?.total ?? 0;
}

export async function findJob(db: Db, jobName: string): Promise<JobRow | undefined> {
  return db.select().from(jobs).where(eq(jobs.jobName, jobName)).get();
}

/** Registers a job and records it in the audit trail, in one transaction. */
export async function insertJob(db: Db, job: NewJob, audit: AuditEntry): Promise<JobRow> {
  const [inserted] = await db.batch([db.insert(jobs).values(job).returning(), auditStatement(db, audit)]);
  return inserted[0]!;
}

/**
 * Applies changes to one registration at `version` and raises its version,
 * with the audit entry, in one transaction. Nothing is written (no audit
 * either) if the job is no longer at that version: undefined then.
 */
export async function updateJob(db: Db, jobId: number, version: number, changes: JobChanges, audit: AuditEntry): Promise<JobRow | undefined> {
  const [updated] = await db.batch([
    db
      .update(jobs)
      .set({ ...changes, version: version + 1 })
      .where(and(eq(jobs.jobId, jobId), eq(jobs.version, version)))
      .returning(),
    auditStatement(db, audit, { jobId, version: version + 1 }),
  ]);
  return updated[0];
}

/**
 * Deregisters one registration at `version`, in one transaction with its
 * audit entry and the rows of its runs still in progress (`inProgress`, written
 * as running so that they finish and are recorded). False if the job is no
 * longer at that version; nothing is written then.
 */
export async function deleteJob(db: Db, job: Pick<JobRow, "jobId" | "version">, inProgress: RunStart[], audit: AuditEntry): Promise<boolean> {
  const deleted = db
    .delete(jobs)
    .where(and(eq(jobs.jobId, job.jobId), eq(jobs.version, job.version)))
    .returning({ jobId: jobs.jobId });
  const [first, ...rest] = [
    ...inProgress.flatMap((run) => admitRunStatements(db, run, { version: job.version })),
    deleted,
    auditStatement(db, audit, { jobId: job.jobId, gone: true }),
  ];
  const results = await db.batch([first!, ...rest]);
  return (results[results.length - 2] as { jobId: number }[]).length === 1;
}

/** Moves next_run_at of a registration, unless the job changed since `version` (a newer write is never undone). */
export async function setNextRunAt(db: Db, jobId: number, version: number, nextRunAt: string | null): Promise<void> {
  await db.update(jobs).set({ nextRunAt }).where(and(eq(jobs.jobId, jobId), eq(jobs.version, version)));
}

/** Active jobs never armed (next_run_at NULL) or whose next run is older than `before`. */
export function listUnarmedOrOverdue(db: Db, before: string, limit: number): Promise<Pick<JobRow, "jobId" | "jobName">[]> {
  return db
    .select({ jobId: jobs.jobId, jobName: jobs.jobName })
    .from(jobs)
    .where(and(eq(jobs.isActive, true), or(isNull(jobs.nextRunAt), lt(jobs.nextRunAt, before))))
    .limit(limit);
}

/** Counts active jobs and overdue ones (for health). */
export async function countActiveAndOverdue(db: Db, before: string): Promise<{ active: number; overdue: number }> {
  const row = await db
    .select({
      active: sql<number>`count(*)`,
      overdue: sql<number>`coalesce(sum(${jobs.nextRunAt} < ${before}), 0)`,
    })
    .from(jobs)
    .where(eq(jobs.isActive, true))
    .get();
  return { active: row?.active ?? 0, overdue: row?.overdue ?? 0 };
}

/** A slice of all jobs by name after `afterName`, for the supervisor's rolling check. */
export function listJobsAfter(db: Db, afterName: string, limit: number): Promise<Pick<JobRow, "jobId" | "jobName">[]> {
  return db
    .select({ jobId: jobs.jobId, jobName: jobs.jobName })
    .from(jobs)
    .where(gt(jobs.jobName, afterName))
    .orderBy(asc(jobs.jobName))
    .limit(limit);
}
