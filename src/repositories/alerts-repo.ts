import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, sql, type SQL } from "drizzle-orm";
import { statement, type Db } from "../db/client";
import { alerts, type AlertRow } from "../db/alerts-schema";
import { jobs } from "../db/schema";
import type { AlertAction, AlertOpening } from "../scheduler/alert-rules";
import { auditStatement, type AuditEntry } from "./audit-repo";
import { jsonList } from "./platform-repo";

/**
 * Alert writes are statements for the batch of the change that causes them (a
 * run's record, a skipped instant, the supervisor's pass), so an alert and its
 * notification commit together or not at all:
 * - one open alert per (job, kind): a partial unique index, so opening an open one is a no-op;
 * - one notification per opening and per resolution: outbox dedupe keys
 *   'alert:<alert_id>:opened' and ':resolved', so a retried batch sends nothing twice.
 */

export type AlertEvent = "opened" | "resolved";

type Statement = ReturnType<typeof statement>;
const second = (column: string) => sql.raw(`strftime('%Y-%m-%dT%H:%M:%SZ', ${column})`);

/**
 * The notification of `event` for each alert matching `where` (the webhook's
 * `data`: alert_id, kind, job_name, scheduled_for, run_id, message, opened_at,
 * resolved_at), unless that alert already has it. Returns the new rows' ids.
 */
function notifyStatement(db: Db, event: AlertEvent, where: SQL, at: string): Statement {
  return statement(db, sql`
    INSERT INTO notification_outbox (dedupe_key, mentor_id, kind, payload, created_at, job_name)
    SELECT 'alert:' || alert_id || ':' || ${event}, NULL, ${`job.alert.${event}`},
      json_object('alert_id', 'alert-' || alert_id, 'kind', kind, 'job_name', job_name,
        'scheduled_for', ${second("scheduled_for")},
        'run_id', IIF(run_no IS NULL, NULL, 'run-' || printf('%04d', run_no)),
        'message', message, 'opened_at', ${second("opened_at")}, 'resolved_at', ${second("resolved_at")}),
      ${at}, job_name
    FROM alerts WHERE ${where}
    ON CONFLICT DO NOTHING
    RETURNING notification_id`);
}

const streakAtLeast = (jobId: number, n: number | undefined) =>
  n === undefined ? sql`1` : sql`coalesce((SELECT consecutive_failures FROM job_run_stats WHERE job_id = ${jobId}), 0) >= ${n}`;

/** Opens `alert` for the job if none of its kind is open, its alerts are on and `when` holds; with its notification. */
export function openAlertStatements(db: Db, job: { jobId: number; jobName: string }, alert: AlertOpening, at: string, when: SQL = sql`1`): Statement[] {
  const scheduledFor = alert.scheduledFor === null ? null : new Date(alert.scheduledFor).toISOString();
  return [
    statement(db, sql`
      INSERT INTO alerts (job_id, job_name, kind, scheduled_for, run_no, message, opened_at)
      SELECT ${job.jobId}, ${job.jobName}, ${alert.kind}, ${scheduledFor}, ${alert.runNo}, ${alert.message}, ${at}
      WHERE EXISTS (SELECT 1 FROM jobs WHERE job_id = ${job.jobId} AND alerts_enabled = 1)
        AND ${streakAtLeast(job.jobId, alert.failuresAtLeast)} AND ${when}
      ON CONFLICT DO NOTHING`),
    notifyStatement(db, "opened", sql`job_id = ${job.jobId} AND kind = ${alert.kind} AND resolved_at IS NULL AND opened_at = ${at}`, at),
  ];
}

/** What a batch's alert statements did, read from their results. */
export interface AlertWriteResult {
  /** Outbox rows written (to put on the queue once the batch has committed). */
  notificationIds: number[];
  /** The job was paused by its policy. */
  paused: boolean;
}

export interface AlertWrites {
  statements: Statement[];
  read(results: readonly unknown[]): AlertWriteResult;
}

/**
 * The statements for `actions` (src/scheduler/alert-rules.ts), each only if
 * `when` holds (the caller's guard: e.g. this very record was written now, not
 * by an earlier try). `at` is the change's time.
 */
export function alertWrites(db: Db, job: { jobId: number; jobName: string }, actions: readonly AlertAction[], at: string, when: SQL = sql`1`): AlertWrites {
  const statements: Statement[] = [];
  const notify: number[] = [];
  let pauseAt = -1;
  for (const action of actions) {
    if (action.type === "open") {
      statements.push(...openAlertStatements(db, job, action.alert, at, when));
      notify.push(statements.length - 1);
    } else if (action.type === "resolve") {
      statements.push(
        statement(db, sql`
          UPDATE alerts SET resolved_at = ${at}, resolution = ${action.resolution}
          WHERE job_id = ${job.jobId} AND resolved_at IS NULL AND ${when}`),
        notifyStatement(db, "resolved", sql`job_id = ${job.jobId} AND resolved_at = ${at}`, at),
      );
      notify.push(statements.length - 1);
    } else {
      pauseAt = statements.length;
      statements.push(
        statement(db, sql`
          UPDATE jobs SET is_active = 0, next_run_at = NULL, version = version + 1, updated_at = ${at}
          WHERE job_id = ${job.jobId} AND is_active = 1 AND ${streakAtLeast(job.jobId, action.failuresAtLeast)} AND ${when}
          RETURNING job_id`),
        // Each of these only if the statement before it wrote its row: the pause, then its audit entry.
        auditStatement(db, systemPause(job.jobName, action.reason, at), { when: sql`changes() = 1` }),
      );
      if (action.alert) {
        const alert = action.alert;
        statements.push(...openAlertStatements(db, job, { ...alert, failuresAtLeast: undefined }, at, sql`changes() = 1 AND ${when}`));
        notify.push(statements.length - 1);
      }
    }
  }
  return {
    statements,
    read(results) {
      const rows = (i: number) => ((results[i] as { results?: unknown[] } | undefined)?.results ?? []) as { notification_id?: number }[];
      return {
        notificationIds: notify.flatMap((i) => rows(i).map((r) => r.notification_id!)),
        paused: pauseAt >= 0 && rows(pauseAt).length > 0,
      };
    },
  };
}

/** The audit entry of a pause the job's policy made: the system's, with the reason. */
function systemPause(jobName: string, reason: string, at: string): AuditEntry {
  return {
    at,
    action: "pause",
    jobName,
    actor: "system",
    requestId: null,
    clientRequestId: null,
    sourceIp: null,
    userAgent: null,
    before: { is_active: true },
    after: { is_active: false, paused_by: "policy", reason },
  };
}

// ---- the supervisor's look at D1 ----

export interface WatchedJobRow {
  jobId: number;
  jobName: string;
  cronExpression: string;
  timezone: string;
  startDeadlineSeconds: number;
  createdAt: string;
  updatedAt: string;
}

/** Active jobs with alerts on, by name after `afterName`: the dead man's switch's rolling window. */
export function listWatchedJobs(db: Db, afterName: string, limit: number): Promise<WatchedJobRow[]> {
  return db
    .select({
      jobId: jobs.jobId,
      jobName: jobs.jobName,
      cronExpression: jobs.cronExpression,
      timezone: jobs.timezone,
      startDeadlineSeconds: jobs.startDeadlineSeconds,
      createdAt: jobs.createdAt,
      updatedAt: jobs.updatedAt,
    })
    .from(jobs)
    .where(and(eq(jobs.isActive, true), eq(jobs.alertsEnabled, true), gt(jobs.jobName, afterName)))
    .orderBy(asc(jobs.jobName))
    .limit(limit);
}

export interface InstantCheck {
  jobId: number;
  /** The instant and the time its run must have started by (ISO with ms, as runs store them). */
  instant: string;
  deadline: string;
}

/**
 * No real run started for the instant by its deadline, and no missed alert of the
 * job is open or was opened since the instant (its object noticed first: that alert covers it).
 */
const missedCondition = (jobId: SQL | number, instant: SQL | string, deadline: SQL | string) => sql`
  NOT EXISTS (SELECT 1 FROM runs r WHERE r.job_id = ${jobId} AND r.scheduled_for = ${instant} AND r.status <> 'skipped' AND r.started_at <= ${deadline})
  AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.job_id = ${jobId} AND a.kind = 'missed' AND (a.resolved_at IS NULL OR a.opened_at >= ${instant}))`;

/**
 * Of `checks`, those whose instant has no run started by its deadline (exactly-once
 * (job, instant) identity: the unique index on runs answers each in one lookup).
 * One statement for the whole list (one JSON parameter).
 */
export async function findMissedInstants(db: Db, checks: readonly InstantCheck[]): Promise<InstantCheck[]> {
  if (checks.length === 0) return [];
  const field = (name: string) => sql.raw(`json_extract(c.value, '$.${name}')`);
  const rows = await db.all<{ job_id: number; instant: string; deadline: string }>(sql`
    SELECT ${field("jobId")} AS job_id, ${field("instant")} AS instant, ${field("deadline")} AS deadline
    FROM json_each(${JSON.stringify(checks)}) AS c
    WHERE ${missedCondition(field("jobId"), field("instant"), field("deadline"))}`);
  return rows.map((r) => ({ jobId: r.job_id, instant: r.instant, deadline: r.deadline }));
}

/** The guard of the supervisor's missed alert: still no run for the instant (its object may have run it meanwhile). */
export const stillMissed = (check: InstantCheck) => missedCondition(check.jobId, check.instant, check.deadline);

export interface RunningRow {
  jobId: number;
  jobName: string;
  runNo: number;
  scheduledFor: string | null;
  startedAt: string;
  finishDeadlineSeconds: number;
}

/** Real runs still going (as D1 has them) of jobs with a finish deadline and alerts on and no late alert open. */
export function listRunningWithFinishDeadline(db: Db, limit: number): Promise<RunningRow[]> {
  return db.all<RunningRow>(sql`
    SELECT r.job_id AS jobId, r.job_name AS jobName, r.run_no AS runNo, r.scheduled_for AS scheduledFor, r.started_at AS startedAt,
           j.finish_deadline_seconds AS finishDeadlineSeconds
    FROM runs r JOIN jobs j ON j.job_id = r.job_id
    WHERE r.status = 'running' AND r.dry_run = 0 AND j.finish_deadline_seconds IS NOT NULL AND j.alerts_enabled = 1
      AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.job_id = r.job_id AND a.kind = 'late' AND a.resolved_at IS NULL)
    LIMIT ${limit}`);
}

/** The guard of the supervisor's late alert: the run is still going. */
export const stillRunning = (run: Pick<RunningRow, "jobId" | "runNo">) =>
  sql`EXISTS (SELECT 1 FROM runs WHERE job_id = ${run.jobId} AND run_no = ${run.runNo} AND status = 'running')`;

/** Sends a batch of alert writes (the supervisor's); returns the notification ids written. */
export async function applyAlertWrites(db: Db, writes: readonly AlertWrites[]): Promise<number[]> {
  const statements = writes.flatMap((w) => w.statements);
  if (statements.length === 0) return [];
  const results = await db.batch(statements as [Statement, ...Statement[]]);
  let offset = 0;
  return writes.flatMap((w) => {
    const part = results.slice(offset, (offset += w.statements.length));
    return w.read(part).notificationIds;
  });
}

// ---- reading ----

export interface AlertFilter {
  state?: "open" | "resolved";
  jobName?: string;
  beforeId?: number;
}

/** How many alerts are open (of jobs that still exist). */
export async function countOpenAlerts(db: Db): Promise<number> {
  const row = await db
    .select({ n: sql<number>`count(*)` })
    .from(alerts)
    .where(and(isNull(alerts.resolvedAt), sql`EXISTS (SELECT 1 FROM jobs WHERE jobs.job_id = ${alerts.jobId})`))
    .get();
  return row?.n ?? 0;
}

/** Alerts newest first. Open alerts of deleted jobs are left out of "open" (nothing can resolve them). */
export function listAlerts(db: Db, filter: AlertFilter, limit: number): Promise<AlertRow[]> {
  const where: SQL[] = [];
  if (filter.state === "open") where.push(isNull(alerts.resolvedAt), sql`EXISTS (SELECT 1 FROM jobs WHERE jobs.job_id = ${alerts.jobId})`);
  if (filter.state === "resolved") where.push(isNotNull(alerts.resolvedAt));
  if (filter.jobName !== undefined) where.push(eq(alerts.jobName, filter.jobName));
  if (filter.beforeId !== undefined) where.push(lt(alerts.alertId, filter.beforeId));
  return db
    .select()
    .from(alerts)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(alerts.alertId))
    .limit(limit);
}

/** The open alerts of one registration, oldest first (only open ones are read: the partial index). */
export function openAlertsOf(db: Db, jobId: number): Promise<AlertRow[]> {
  return db
    .select()
    .from(alerts)
    .where(and(eq(alerts.jobId, jobId), isNull(alerts.resolvedAt)))
    .orderBy(asc(alerts.alertId));
}

/**
 * A column for a query over `jobs`: the row's open alerts as a JSON array (parse
 * with {@link parseOpenAlerts}). A lookup in the partial index per job, so a page of
 * jobs reads no alert row unless one is open.
 */
export const openAlertsColumn = sql<string>`(
  SELECT json_group_array(json_object('alertId', a.alert_id, 'jobId', a.job_id, 'jobName', a.job_name, 'kind', a.kind,
    'scheduledFor', a.scheduled_for, 'runNo', a.run_no, 'message', a.message, 'openedAt', a.opened_at,
    'resolvedAt', a.resolved_at, 'resolution', a.resolution))
  FROM alerts a WHERE a.job_id = ${jobs.jobId} AND a.resolved_at IS NULL)`;

export function parseOpenAlerts(json: string | null): AlertRow[] {
  return (JSON.parse(json ?? "[]") as AlertRow[]).sort((a, b) => a.alertId - b.alertId);
}
