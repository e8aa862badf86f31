import type { Db } from "../db/client";
import { enqueueIds } from "../delivery/enqueue";
import type { Env } from "../env";
import { formatRunId } from "../lib/ids";
import { isoMs } from "../lib/instants";
import { logEvent } from "../lib/log";
import {
  alertWrites,
  applyAlertWrites,
  findMissedInstants,
  listRunningWithFinishDeadline,
  listWatchedJobs,
  stillMissed,
  stillRunning,
  type AlertWrites,
  type InstantCheck,
} from "../repositories/alerts-repo";
import { instantToCheck, lateMessage, missedMessage } from "../scheduler/alert-rules";

/** Jobs the dead man's switch looks at per pass (a rolling window beyond that). */
export const WATCHED_PER_PASS = 1000;
/** Instants checked per statement (one JSON parameter each). */
const CHECKS_PER_QUERY = 200;
/** Runs going looked at per pass for a finish deadline. */
const RUNNING_PER_PASS = 500;
/** Alert writes per D1 batch (two statements each). */
const WRITES_PER_BATCH = 40;

export interface DeadlineReport {
  /** Where the next pass's window starts ("" = from the first job). */
  cursor: string;
  missed: number;
  late: number;
}

/**
 * The dead man's switch, from D1 alone (never from a job's own object, whose
 * alarm may be lost): for each active job with alerts on, the latest instant
 * whose start deadline has passed must have a run started by then, or the job
 * gets a `missed` alert. A run still going past its job's finish deadline gets
 * a `late` alert. `watchingSince`: the supervisor's first pass ever (nothing
 * before it is held against a job). `down`: the supervisor did not run from..to
 * (the service was down or unreachable), named in the message of an instant it covers.
 */
export async function watchDeadlines(
  env: Env,
  db: Db,
  now: Date,
  { cursor, watchingSince, down }: { cursor: string; watchingSince: number; down: { from: number; to: number } | null },
): Promise<DeadlineReport> {
  const at = isoMs(now);
  const watched = await listWatchedJobs(db, cursor, WATCHED_PER_PASS);
  const checks: (InstantCheck & { job: (typeof watched)[number] })[] = [];
  for (const job of watched) {
    const watch = { ...job, changedAt: Math.max(Date.parse(job.createdAt), Date.parse(job.updatedAt), watchingSince) };
    const instant = instantToCheck(watch, now.getTime());
    if (instant !== null) checks.push({ jobId: job.jobId, instant: isoMs(instant), deadline: isoMs(instant + job.startDeadlineSeconds * 1000), job });
  }
  const writes: AlertWrites[] = [];
  for (let i = 0; i < checks.length; i += CHECKS_PER_QUERY) {
    const chunk = checks.slice(i, i + CHECKS_PER_QUERY);
    const missed = await findMissedInstants(db, chunk.map(({ jobId, instant, deadline }) => ({ jobId, instant, deadline })));
    for (const check of missed) {
      const { job } = chunk.find((c) => c.jobId === check.jobId && c.instant === check.instant)!;
      const instant = Date.parse(check.instant);
      const gap = down && down.from < instant ? down : null;
      const message = missedMessage({ ...job, changedAt: 0 }, instant, now.getTime(), gap);
      writes.push(alertWrites(db, job, [{ type: "open", alert: { kind: "missed", scheduledFor: instant, runNo: null, message } }], at, stillMissed(check)));
    }
  }
  const missedCount = writes.length;

  for (const run of await listRunningWithFinishDeadline(db, RUNNING_PER_PASS)) {
    const instant = Date.parse(run.scheduledFor ?? run.startedAt);
    if (instant + run.finishDeadlineSeconds * 1000 > now.getTime()) continue;
    const message = lateMessage(run.jobName, { runId: formatRunId(run.runNo), instant, scheduled: run.scheduledFor !== null }, run.finishDeadlineSeconds);
    const alert = { kind: "late" as const, scheduledFor: run.scheduledFor === null ? null : instant, runNo: run.runNo, message };
    writes.push(alertWrites(db, run, [{ type: "open", alert }], at, stillRunning(run)));
  }

  for (let i = 0; i < writes.length; i += WRITES_PER_BATCH) {
    const ids = await applyAlertWrites(db, writes.slice(i, i + WRITES_PER_BATCH));
    if (ids.length > 0) await enqueueIds(env, db, ids, now).catch((error) => logEvent("delivery.enqueue_failed", { alerts: ids.length, error: String(error) }, "error"));
  }
  const report = { cursor: watched.length < WATCHED_PER_PASS ? "" : watched[watched.length - 1]!.jobName, missed: missedCount, late: writes.length - missedCount };
  if (writes.length > 0) logEvent("alerts.deadlines", { missed: report.missed, late: report.late }, "warn");
  return report;
}
