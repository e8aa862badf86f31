import { latestRunAtOrBefore } from "../cron/schedule";
import { publicRunError } from "../lib/run-errors";
import type { JobConfig } from "./job-config";

/**
 * The alert rules (issue 13), pure: what a run's end, a skipped instant or the
 * supervisor's look at D1 means for a job's alerts. The writes (one open alert
 * per job and kind, one notification per opening and resolution) are made by
 * src/repositories/alerts-repo.ts in the batch of the change that caused them.
 */

export const ALERT_KINDS = ["missed", "late", "failing", "paused_by_policy"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** A job's alert settings: columns of its row (src/db/job-policy.ts), so its config carries them. */
export type AlertSettings = Pick<JobConfig, "startDeadlineSeconds" | "finishDeadlineSeconds" | "alertAfterFailures" | "pauseAfterFailures" | "alertsEnabled">;

export interface AlertOpening {
  kind: AlertKind;
  scheduledFor: number | null;
  runNo: number | null;
  message: string;
  /** Opened only if the job's failure streak (counted in D1 with the run's record) is at least this long. */
  failuresAtLeast?: number;
}

export type AlertAction =
  | { type: "open"; alert: AlertOpening }
  /** The job succeeded on time: every open alert of the job is resolved. */
  | { type: "resolve"; resolution: string }
  /** Pause the job if its failure streak is at least `failuresAtLeast` (then open paused_by_policy when alerts are on). */
  | { type: "pause"; failuresAtLeast: number; reason: string; alert: AlertOpening | null };

/** "2031-06-11 02:00 UTC" (seconds shown only when not zero). */
export function utc(ms: number): string {
  const text = new Date(ms).toISOString();
  return `${text.slice(0, 10)} ${text.endsWith(":00.000Z") ? text.slice(11, 16) : text.slice(11, 19)} UTC`;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

export interface FinishedRun {
  runNo: number;
  runId: string;
  scheduledFor: number | null;
  startedAt: number;
  completedAt: number;
  status: "success" | "failed";
  dryRun: boolean;
  error: string | null;
}

/** What a run's end means for its job's alerts. A dry run means nothing. */
export function planRunAlerts(jobName: string, settings: AlertSettings, run: FinishedRun): AlertAction[] {
  if (run.dryRun) return [];
  const actions: AlertAction[] = [];
  const on = settings.alertsEnabled;
  const instant = run.scheduledFor ?? run.startedAt;
  const startLate = run.scheduledFor !== null && run.startedAt - run.scheduledFor > settings.startDeadlineSeconds * 1000;
  const finishLate = settings.finishDeadlineSeconds !== null && run.completedAt - instant > settings.finishDeadlineSeconds * 1000;
  const of = run.scheduledFor !== null ? `its run of ${utc(run.scheduledFor)}` : `its manual run`;

  if (on && startLate) {
    const message =
      `${jobName} missed its run of ${utc(run.scheduledFor!)}: no run started by ${utc(run.scheduledFor! + settings.startDeadlineSeconds * 1000)} ` +
      `(start_deadline_seconds=${settings.startDeadlineSeconds}); ${run.runId} started ${seconds(run.startedAt - run.scheduledFor!)} after the instant.`;
    actions.push({ type: "open", alert: { kind: "missed", scheduledFor: run.scheduledFor, runNo: run.runNo, message } });
  }
  if (on && finishLate) {
    const message =
      lateMessage(jobName, { runId: run.runId, instant, scheduled: run.scheduledFor !== null }, settings.finishDeadlineSeconds!) +
      ` It ${run.status === "success" ? "succeeded" : "failed"} ${seconds(run.completedAt - instant)} after ${run.scheduledFor !== null ? "the instant" : "it started"}.`;
    actions.push({ type: "open", alert: { kind: "late", scheduledFor: run.scheduledFor, runNo: run.runNo, message } });
  }
  if (run.status === "failed") {
    const why = publicRunError("failed", run.error ?? "").message;
    if (on) {
      const n = settings.alertAfterFailures;
      const message = `${jobName} failed ${n === 1 ? "its last run" : `${n} runs in a row`}; the last, ${run.runId} (${of.replace(/^its /, "")}), failed: ${why}`;
      actions.push({ type: "open", alert: { kind: "failing", scheduledFor: run.scheduledFor, runNo: run.runNo, message, failuresAtLeast: n } });
    }
    if (settings.pauseAfterFailures !== null) {
      const n = settings.pauseAfterFailures;
      const reason = `paused by policy: ${n} failed run(s) in a row (pause_after_failures=${n}); the last was ${run.runId}`;
      const message = `${jobName} was paused after ${n} failed run(s) in a row (pause_after_failures=${n}); the last, ${run.runId}, failed: ${why} Resume it (PATCH is_active: true) once it is fixed.`;
      const alert = on ? { kind: "paused_by_policy" as const, scheduledFor: run.scheduledFor, runNo: run.runNo, message, failuresAtLeast: n } : null;
      actions.push({ type: "pause", failuresAtLeast: n, reason, alert });
    }
  } else if (run.scheduledFor !== null && !startLate && !finishLate) {
    actions.push({ type: "resolve", resolution: `${run.runId} (the run of ${utc(run.scheduledFor)}) succeeded on time` });
  }
  return actions;
}

/** A scheduled instant recorded as skipped (misfire or overlap policy) never gets its run: it is missed. */
export function planSkipAlerts(jobName: string, settings: AlertSettings, skip: { runNo: number; scheduledFor: number; reason: string }): AlertAction[] {
  if (!settings.alertsEnabled) return [];
  const message = `${jobName} missed its run of ${utc(skip.scheduledFor)}: the instant was skipped (${skip.reason}).`;
  return [{ type: "open", alert: { kind: "missed", scheduledFor: skip.scheduledFor, runNo: skip.runNo, message } }];
}

/**
 * The job's object moved past instants it never ran: its stored next instant
 * `from` came and went (the service was not running, or the alarm did not fire)
 * and it now runs or skips the later instant `until`. They are missed.
 */
export function planPassedOver(jobName: string, settings: AlertSettings, passed: { from: number; until: number }): AlertAction[] {
  if (!settings.alertsEnabled) return [];
  const message =
    `${jobName} missed its run of ${utc(passed.from)}: no run started by ${utc(passed.from + settings.startDeadlineSeconds * 1000)}; ` +
    `the service was not running or the job's alarm did not fire then, and the next instant it reached was ${utc(passed.until)}.`;
  return [{ type: "open", alert: { kind: "missed", scheduledFor: passed.from, runNo: null, message } }];
}

/** What the supervisor knows of a job from D1, for the dead man's switch. */
export interface WatchedJob {
  jobName: string;
  cronExpression: string;
  timezone: string;
  startDeadlineSeconds: number;
  /** The job's registration or last change: an instant before it is not held against the job (it may have been paused then). */
  changedAt: number;
}

/**
 * The instant the dead man's switch looks at for a job at `now`: the latest one
 * whose start deadline has passed, if the job existed unchanged since before it.
 * A run for it must have started by instant + start_deadline_seconds, or it is missed.
 */
export function instantToCheck(job: WatchedJob, now: number): number | null {
  const deadlinePassed = new Date(now - job.startDeadlineSeconds * 1000);
  const instant = latestRunAtOrBefore(job.cronExpression, job.timezone, deadlinePassed)?.getTime() ?? null;
  return instant !== null && instant > job.changedAt ? instant : null;
}

/**
 * The message of a missed instant the supervisor found: no run started for it
 * in time, whatever the job's own object did. `down` is a gap between the
 * supervisor's passes that covers the instant: the service was not running.
 */
export function missedMessage(job: WatchedJob, instant: number, now: number, down: { from: number; to: number } | null): string {
  const by = utc(instant + job.startDeadlineSeconds * 1000);
  const cause = down ? `the service was unreachable from ${utc(down.from)} to ${utc(down.to)}` : `none had started when the supervisor looked at ${utc(now)}`;
  return `${job.jobName} missed its run of ${utc(instant)}: no run started by ${by}; ${cause}.`;
}

/** The message of a run the supervisor found still going past its finish deadline. */
export function lateMessage(jobName: string, run: { runId: string; instant: number; scheduled: boolean }, finishDeadlineSeconds: number): string {
  const of = run.scheduled ? `its run of ${utc(run.instant)}` : "its manual run";
  return `${jobName}: ${of} (${run.runId}) was still going at ${utc(run.instant + finishDeadlineSeconds * 1000)} (finish_deadline_seconds=${finishDeadlineSeconds}).`;
}
