import { canonicalTimeZone, checkSchedule, nextRunAfter, upcomingRuns } from "../cron/schedule";
import type { Db } from "../db/client";
import type { JobRow } from "../db/schema";
import type { Env } from "../env";
import { handlerNames, isHandlerName } from "../handlers";
import { clock } from "../lib/clock";
import { ApiError, jobNotFound } from "../lib/errors";
import { iso, isoMs, parseRunId } from "../lib/ids";
import * as present from "../presenters";
import { deliveriesOfRuns } from "../repositories/outbox-repo";
import * as jobsRepo from "../repositories/jobs-repo";
import * as runsRepo from "../repositories/runs-repo";
import type { CreateJobInput, PatchJobInput, TriggerInput } from "../routes/schemas";
import { configFromRow } from "../scheduler/job-config";
import type { Actor } from "./actor";

/**
 * The job use cases. D1 is the source of truth for what is registered; each
 * job's Durable Object (JOB_SCHEDULER, by name) owns when it runs.
 */

async function requireJob(db: Db, jobName: string): Promise<JobRow> {
  const job = await jobsRepo.findJob(db, jobName);
  if (!job) throw jobNotFound(jobName);
  return job;
}

function requireHandler(handler: string): void {
  if (!isHandlerName(handler)) {
    throw new ApiError(422, "unknown_handler", `handler "${handler}" is not registered; known handlers: ${handlerNames().join(", ")}`, {
      field: "handler",
      known_handlers: handlerNames(),
    });
  }
}

/** Checks the expression in its zone; returns the zone's canonical spelling. */
function requireSchedule(cronExpression: string, timezone: string, now: Date): string {
  const zone = canonicalTimeZone(timezone);
  if (!zone) {
    throw new ApiError(400, "invalid_timezone", `timezone "${timezone}" is not a known IANA time zone (for example "Europe/Berlin")`, {
      field: "timezone",
    });
  }
  const check = checkSchedule(cronExpression, zone, now);
  if (!check.ok) throw new ApiError(400, "invalid_cron_expression", check.message, { field: "cron_expression" });
  return zone;
}

function auditEntry(actor: Actor, action: string, jobName: string, before: unknown, after: unknown, at: Date) {
  return {
    at: isoMs(at),
    action,
    jobName,
    actor: actor.label,
    requestId: actor.requestId ?? null,
    sourceIp: actor.sourceIp ?? null,
    userAgent: actor.userAgent ?? null,
    before: (before ?? null) as Record<string, unknown> | null,
    after: (after ?? null) as Record<string, unknown> | null,
  };
}

const isUniqueViolation = (error: unknown): boolean =>
  /UNIQUE constraint failed/i.test(`${String(error)} ${String((error as { cause?: unknown })?.cause ?? "")}`);

const scheduler = (env: Env, jobName: string) => env.JOB_SCHEDULER.getByName(jobName);

export async function listJobs(db: Db, page: number, limit: number) {
  const { rows, total } = await jobsRepo.listJobsPage(db, (page - 1) * limit, limit);
  return { data: rows.map(present.jobSummary), pagination: { page, limit, total } };
}

export async function getJob(db: Db, jobName: string) {
  const job = await requireJob(db, jobName);
  const upcoming = job.isActive ? upcomingRuns(job.cronExpression, job.timezone, clock.now(), 5) : [];
  return present.jobDetail(job, upcoming);
}

export async function registerJob(env: Env, db: Db, input: CreateJobInput, actor: Actor) {
  requireHandler(input.handler);
  const now = clock.now();
  const timezone = requireSchedule(input.cron_expression, input.timezone, now);
  const next = input.is_active ? nextRunAfter(input.cron_expression, timezone, now) : null;
  let row: JobRow;
  try {
    row = await jobsRepo.insertJob(
      db,
      {
        jobName: input.job_name,
        cronExpression: input.cron_expression.trim(),
        timezone,
        handler: input.handler,
        isActive: input.is_active,
        overlapPolicy: input.overlap_policy,
        misfirePolicy: input.misfire_policy,
        catchupWindowSeconds: input.catchup_window_seconds,
        maxRetries: input.max_retries,
        timeoutSeconds: input.timeout_seconds,
        createdAt: isoMs(now),
        updatedAt: isoMs(now),
        nextRunAt: next ? isoMs(next) : null,
      },
      auditEntry(actor, "register", input.job_name, null, input, now),
    );
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ApiError(409, "job_exists", `A job named "${input.job_name}" is already registered.`, { job_name: input.job_name });
    }
    throw error;
  }
  try {
    await scheduler(env, row.jobName).configure(configFromRow(row), row.nextRunAt);
  } catch (error) {
    // Never leave a registered job without its schedule: undo the registration.
    await jobsRepo.deleteJob(db, row.jobId, auditEntry(actor, "register_rolled_back", row.jobName, null, null, clock.now()));
    throw error;
  }
  const summary = present.jobSummary(row);
  return {
    job_name: summary.job_name,
    cron_expression: summary.cron_expression,
    timezone: summary.timezone,
    is_active: summary.is_active,
    created_at: iso(new Date(row.createdAt)),
    next_run_at: summary.next_run_at,
  };
}

export async function updateJob(env: Env, db: Db, jobName: string, patch: PatchJobInput, actor: Actor) {
  const job = await requireJob(db, jobName);
  if (patch.handler !== undefined) requireHandler(patch.handler);
  const now = clock.now();
  const cronExpression = patch.cron_expression?.trim() ?? job.cronExpression;
  const requestedZone = patch.timezone ?? job.timezone;
  const timezone =
    cronExpression !== job.cronExpression || requestedZone !== job.timezone ? requireSchedule(cronExpression, requestedZone, now) : job.timezone;
  const scheduleChanged = cronExpression !== job.cronExpression || timezone !== job.timezone;
  const isActive = patch.is_active ?? job.isActive;
  let nextRunAt = job.nextRunAt;
  if (!isActive) nextRunAt = null;
  else if (scheduleChanged || !job.isActive || nextRunAt === null) {
    const next = nextRunAfter(cronExpression, timezone, now);
    nextRunAt = next ? isoMs(next) : null;
  }
  const action = job.isActive && !isActive ? "pause" : !job.isActive && isActive ? "resume" : "update";
  const changes: jobsRepo.JobChanges = {
    cronExpression,
    timezone,
    isActive,
    nextRunAt,
    updatedAt: isoMs(now),
    ...(patch.handler !== undefined && { handler: patch.handler }),
    ...(patch.overlap_policy !== undefined && { overlapPolicy: patch.overlap_policy }),
    ...(patch.misfire_policy !== undefined && { misfirePolicy: patch.misfire_policy }),
    ...(patch.catchup_window_seconds !== undefined && { catchupWindowSeconds: patch.catchup_window_seconds }),
    ...(patch.max_retries !== undefined && { maxRetries: patch.max_retries }),
    ...(patch.timeout_seconds !== undefined && { timeoutSeconds: patch.timeout_seconds }),
  };
  // The object first, as for delete: if D1's write then fails, the supervisor puts
  // the object back to what D1 says; a paused job is never left with an alarm.
  await scheduler(env, jobName).configure(configFromRow({ ...job, ...changes } as JobRow), nextRunAt);
  const updated = await jobsRepo.updateJob(db, job.jobId, changes, auditEntry(actor, action, jobName, present.jobDetail(job, []), patch, now));
  if (!updated) throw jobNotFound(jobName);
  return getJob(db, jobName);
}

export async function deleteJob(env: Env, db: Db, jobName: string, actor: Actor) {
  const job = await requireJob(db, jobName);
  // The alarm goes first: a job may briefly be registered without an alarm
  // (the supervisor re-arms it), never deleted with one still set.
  await scheduler(env, jobName).remove();
  const now = clock.now();
  const deleted = await jobsRepo.deleteJob(db, job.jobId, auditEntry(actor, "delete", jobName, present.jobDetail(job, []), null, now));
  if (!deleted) throw jobNotFound(jobName);
  return { deleted: true as const, job_name: jobName, cancelled_at: iso(now) };
}

export async function triggerJob(env: Env, db: Db, jobName: string, input: TriggerInput, actor: Actor) {
  const job = await requireJob(db, jobName);
  const triggeredBy = input.triggered_by ?? actor.label;
  const outcome = await scheduler(env, jobName).trigger(
    configFromRow(job),
    { triggeredBy, dryRun: input.dry_run },
    { actor: actor.label, requestId: actor.requestId ?? null, sourceIp: actor.sourceIp ?? null, userAgent: actor.userAgent ?? null },
  );
  if (!outcome.accepted) {
    if (outcome.reason === "gone") throw jobNotFound(jobName);
    throw new ApiError(
      409,
      "run_in_progress",
      `Job "${jobName}" is already running (${outcome.runningRunId}) and its overlap_policy is "skip".`,
      { running_run_id: outcome.runningRunId },
    );
  }
  return {
    job_name: jobName,
    triggered_at: iso(new Date(outcome.triggeredAt)),
    run_id: outcome.runId,
    status: "running" as const,
    dry_run: input.dry_run,
  };
}

export async function getLastResult(db: Db, jobName: string) {
  const job = await requireJob(db, jobName);
  const run = await runsRepo.latestRun(db, job.jobId);
  if (!run) throw new ApiError(404, "no_runs", `Job "${jobName}" has not run yet.`, { job_name: jobName });
  return present.lastResult(run);
}

export async function listJobRuns(db: Db, jobName: string, limit: number, cursor?: string) {
  const job = await requireJob(db, jobName);
  const beforeSeq = cursor === undefined ? undefined : (parseRunId(cursor) ?? undefined);
  const rows = await runsRepo.listRuns(db, job.jobId, limit + 1, beforeSeq);
  const page = rows.slice(0, limit);
  // issue 12: each run's deliveries, one grouped query for the page.
  const deliveries = await deliveriesOfRuns(db, jobName, page.map((r) => present.run(r).run_id));
  return {
    data: page.map((r) => {
      const run = present.run(r);
      return { ...run, deliveries: deliveries.get(run.run_id) ?? { queued: 0, sent: 0, failed: 0, dead: 0 } };
    }),
    next_cursor: rows.length > limit ? present.run(page[page.length - 1]!).run_id : null,
  };
}
