import { canonicalTimeZone, checkSchedule, nextRunAfter } from "../cron/schedule";
import { policyFrom } from "../db/job-policy";
import type { JobRow } from "../db/schema";
import { handlerNames, type HandlerRegistry } from "../handlers";
import { ApiError } from "../lib/errors";
import { isoMs } from "../lib/instants";
import type { JobChanges, NewJob } from "../repositories/jobs-repo";
import type { CreateJobInput, PatchJobInput } from "../routes/schemas";

/**
 * The rules a change to a job must follow, pure: the job's object (its one
 * owner) applies them to a fresh read of the job, so a change is decided
 * against what is stored, never against a copy read before the owner's turn.
 */

function requireHandler(handler: string, handlers: HandlerRegistry): void {
  if (!handlers.has(handler)) {
    const known = handlerNames(handlers);
    throw new ApiError(422, "unknown_handler", `handler "${handler}" is not registered; known handlers: ${known.join(", ")}`, {
      field: "handler",
      known_handlers: known,
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

const nextOf = (cronExpression: string, timezone: string, now: Date): string | null => {
  const next = nextRunAfter(cronExpression, timezone, now);
  return next ? isoMs(next) : null;
};

/** A new registration from a validated request body. */
export function newJob(input: CreateJobInput, now: Date, handlers: HandlerRegistry): NewJob {
  requireHandler(input.handler, handlers);
  const cronExpression = input.cron_expression.trim();
  const timezone = requireSchedule(cronExpression, input.timezone, now);
  return {
    jobName: input.job_name,
    cronExpression,
    timezone,
    handler: input.handler,
    isActive: input.is_active,
    ...policyFrom(input),
    createdAt: isoMs(now),
    updatedAt: isoMs(now),
    nextRunAt: input.is_active ? nextOf(cronExpression, timezone, now) : null,
    version: 1,
  };
}

export type ChangeAction = "update" | "pause" | "resume";

/**
 * What a PATCH changes in `job`: only the fields it names (and next_run_at,
 * where the schedule or the pause changed). The version is raised by the write.
 */
export function patchChanges(
  job: JobRow,
  patch: PatchJobInput,
  now: Date,
  handlers: HandlerRegistry,
): { changes: JobChanges; action: ChangeAction } {
  if (patch.handler !== undefined) requireHandler(patch.handler, handlers);
  const cronExpression = patch.cron_expression?.trim() ?? job.cronExpression;
  const requestedZone = patch.timezone ?? job.timezone;
  const scheduleNamed = cronExpression !== job.cronExpression || requestedZone !== job.timezone;
  const timezone = scheduleNamed ? requireSchedule(cronExpression, requestedZone, now) : job.timezone;
  const scheduleChanged = cronExpression !== job.cronExpression || timezone !== job.timezone;
  const isActive = patch.is_active ?? job.isActive;

  const changes: JobChanges = {
    updatedAt: isoMs(now),
    ...(patch.cron_expression !== undefined && { cronExpression }),
    ...(patch.timezone !== undefined && { timezone }),
    ...(patch.is_active !== undefined && { isActive }),
    ...(patch.handler !== undefined && { handler: patch.handler }),
    ...policyFrom(patch),
  };
  if (!isActive) changes.nextRunAt = null;
  else if (scheduleChanged || !job.isActive || job.nextRunAt === null) changes.nextRunAt = nextOf(cronExpression, timezone, now);

  const action = job.isActive && !isActive ? "pause" : !job.isActive && isActive ? "resume" : "update";
  return { changes, action };
}

/** `If-Match` as the owner checks it: "*" matches any registered job, a list of versions matches one of them. */
export type IfMatch = { any: true } | { versions: number[] } | null;

export function requireMatch(ifMatch: IfMatch, job: JobRow): void {
  if (ifMatch === null || "any" in ifMatch || ifMatch.versions.includes(job.version)) return;
  throw new ApiError(
    412,
    "precondition_failed",
    `Job "${job.jobName}" has changed since you read it: If-Match names version ${ifMatch.versions.join(", ")}, the job is at version ${job.version}. Read it again and retry.`,
    { job_name: job.jobName, current_version: job.version },
    { ETag: `"${job.version}"` },
  );
}
