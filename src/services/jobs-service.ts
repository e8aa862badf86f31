import { upcomingRuns } from "../cron/schedule";
import { createDb, type Db } from "../db/client";
import type { JobRow } from "../db/schema";
import type { Env } from "../env";
import { clock } from "../lib/clock";
import { ApiError, jobNotFound } from "../lib/errors";
import { parseRunId } from "../lib/ids";
import { iso } from "../lib/instants";
import * as present from "../presenters";
import { deliveriesOfRuns } from "../repositories/outbox-repo";
import * as alertsRepo from "../repositories/alerts-repo";
import * as jobsRepo from "../repositories/jobs-repo";
import * as runsRepo from "../repositories/runs-repo";
import * as runStepsRepo from "../repositories/run-steps-repo";
import type { CreateJobInput, PatchJobInput, TriggerInput } from "../routes/schemas";
import type { IfMatch } from "../scheduler/job-changes";
import type { Answer } from "../scheduler/job-scheduler";
import type { Actor } from "./actor";

/**
 * The job use cases. Reads come from D1; every change goes to the job's
 * Durable Object (JOB_SCHEDULER, by name), its one owner, which decides it
 * from a fresh read and writes D1 and its own schedule in one turn.
 */

const owner = (env: Env, jobName: string) => env.JOB_SCHEDULER.getByName(jobName);

/** The owner's answer, or its refusal as the ApiError it was. */
function unwrap<T>(answer: Answer<T>): T {
  if (answer.ok) return answer.value;
  const { status, code, message, details, headers } = answer.refusal;
  throw new ApiError(status, code, message, details, headers);
}

async function requireJob(db: Db, jobName: string): Promise<JobRow> {
  const job = await jobsRepo.findJob(db, jobName);
  if (!job) throw jobNotFound(jobName);
  return job;
}

async function detail(db: Db, job: JobRow) {
  const upcoming = job.isActive ? upcomingRuns(job.cronExpression, job.timezone, clock.now(), 5) : [];
  const alerts = await alertsRepo.openAlertsOf(db, job.jobId);
  return { ...present.jobDetail(job, upcoming), open_alerts: alerts.map(present.alert) };
}

export async function listJobs(db: Db, page: number, limit: number) {
  const { rows, total } = await jobsRepo.listJobsPage(db, (page - 1) * limit, limit);
  const data = rows.map((row) => ({ ...present.jobSummary(row), open_alerts: alertsRepo.parseOpenAlerts(row.openAlerts).map(present.alert) }));
  return { data, pagination: { page, limit, total } };
}

export async function getJob(db: Db, jobName: string) {
  return detail(db, await requireJob(db, jobName));
}

export async function registerJob(env: Env, input: CreateJobInput, actor: Actor) {
  return present.registeredJob(unwrap(await owner(env, input.job_name).register(input, actor)));
}

export async function updateJob(env: Env, jobName: string, patch: PatchJobInput, ifMatch: IfMatch, actor: Actor) {
  return detail(createDb(env.DB), unwrap(await owner(env, jobName).update(jobName, patch, ifMatch, actor)));
}

export async function deleteJob(env: Env, jobName: string, ifMatch: IfMatch, actor: Actor) {
  const { cancelledAt } = unwrap(await owner(env, jobName).remove(jobName, ifMatch, actor));
  return { deleted: true as const, job_name: jobName, cancelled_at: iso(new Date(cancelledAt)) };
}

export async function triggerJob(env: Env, jobName: string, input: TriggerInput, actor: Actor) {
  const request = { triggeredBy: input.triggered_by ?? actor.label, dryRun: input.dry_run };
  const { runId, triggeredAt } = unwrap(await owner(env, jobName).trigger(jobName, request, actor));
  return { job_name: jobName, triggered_at: iso(new Date(triggeredAt)), run_id: runId, status: "running" as const, dry_run: input.dry_run };
}

/** `detail`: the request carried a valid key, so a failed run's raw error is shown too (error_detail). */
export async function getLastResult(db: Db, jobName: string, detail = false) {
  const job = await requireJob(db, jobName);
  const run = await runsRepo.latestRun(db, job.jobId);
  if (!run) throw new ApiError(404, "no_runs", `Job "${jobName}" has not run yet.`, { job_name: jobName });
  return present.lastResult(run, detail);
}

export async function listJobRuns(db: Db, jobName: string, limit: number, cursor?: string, detail = false) {
  const job = await requireJob(db, jobName);
  const beforeRunNo = cursor === undefined ? undefined : (parseRunId(cursor) ?? undefined);
  const rows = await runsRepo.listRuns(db, job.jobId, limit + 1, beforeRunNo);
  const page = rows.slice(0, limit);
  // A run going shows how far it has got: its last committed step (one indexed read each; few runs are running at once).
  const progress = await Promise.all(
    page.map(async (row) => {
      if (row.status !== "running") return undefined;
      const step = await runStepsRepo.readLastStep(db, job.jobId, present.run(row).run_id);
      return step ? { processed: step.processed, total: step.total } : undefined;
    }),
  );
  // What became of each run's notifications: one grouped query for the page.
  const deliveries = await deliveriesOfRuns(db, jobName, page.map((r) => present.run(r).run_id));
  return {
    data: page.map((row, i) => {
      const run = present.run(row, detail, progress[i]);
      return { ...run, deliveries: deliveries.get(run.run_id) ?? { queued: 0, sent: 0, failed: 0, dead: 0 } };
    }),
    next_cursor: rows.length > limit ? present.run(page[page.length - 1]!).run_id : null,
  };
}
