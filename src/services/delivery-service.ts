import type { Db } from "../db/client";
import type { NotificationRow, OutboxStatus, ReportRow } from "../db/platform-schema";
import { messageId } from "../delivery/deliver";
import { enqueueIds } from "../delivery/enqueue";
import type { Env } from "../env";
import { clock } from "../lib/clock";
import { ApiError } from "../lib/errors";
import { iso, isoMs } from "../lib/instants";
import { keysetPaging } from "../lib/paging";
import { auditEntry } from "../repositories/audit-repo";
import * as outboxRepo from "../repositories/outbox-repo";
import * as reportsRepo from "../repositories/reports-repo";
import type { Actor } from "./actor";

const isoOrNull = (value: string | null) => (value === null ? null : iso(new Date(value)));

export function presentNotification(row: NotificationRow) {
  return {
    notification_id: row.notificationId,
    /** What a receiver sees as webhook-id. */
    message_id: messageId(row.notificationId),
    type: row.kind,
    status: row.status,
    attempts: row.attempts,
    last_error: row.lastError,
    delivered_to: row.deliveredTo ?? [],
    mentor_id: row.mentorId,
    job_name: row.jobName,
    run_id: row.createdByRun,
    dedupe_key: row.dedupeKey,
    created_at: iso(new Date(row.createdAt)),
    next_attempt_at: isoOrNull(row.nextAttemptAt),
    sent_at: isoOrNull(row.sentAt),
    payload: row.payload,
  };
}

export interface NotificationQuery {
  status?: OutboxStatus;
  type?: string;
  mentor_id?: string;
  run_id?: string;
  job_name?: string;
  limit: number;
  cursor?: string;
}

/** Notifications are paged by id; a cursor is the message id form ("ntf_12"). */
export const notificationPaging = keysetPaging("ntf_");
export const parseNotificationId = (value: string) => Number(value.replace(/^ntf_/, ""));

export async function listNotifications(db: Db, query: NotificationQuery) {
  const rows = await outboxRepo.listNotifications(
    db,
    {
      status: query.status,
      kind: query.type,
      mentorId: query.mentor_id,
      runId: query.run_id,
      jobName: query.job_name,
      beforeId: notificationPaging.before(query.cursor),
    },
    query.limit + 1,
  );
  return notificationPaging.page(rows, query.limit, (row) => row.notificationId, presentNotification);
}

/** A dead or failed notification goes back to pending with fresh attempts, is audited, and is queued at once. */
export async function retryNotification(env: Env, db: Db, id: number, actor: Actor) {
  const now = clock.now();
  const before = await outboxRepo.findNotification(db, id);
  if (!before) throw new ApiError(404, "notification_not_found", `No notification ${id}.`, { notification_id: id });
  if (before.status !== "dead" && before.status !== "failed") {
    throw new ApiError(409, "not_retryable", `Notification ${id} is ${before.status}; only a dead or failed one can be retried.`, {
      notification_id: id,
      status: before.status,
    });
  }
  const after = await outboxRepo.resetForRetry(
    db,
    id,
    isoMs(now),
    auditEntry(
      actor,
      "notification_retry",
      // The audit trail is per job; the notification's job says where it came from.
      before.jobName ?? "",
      { notification_id: id, status: before.status, attempts: before.attempts, last_error: before.lastError },
      { notification_id: id, status: "pending", attempts: 0 },
      now,
    ),
  );
  if (!after) {
    throw new ApiError(409, "not_retryable", `Notification ${id} changed while it was being retried; read it again.`, { notification_id: id });
  }
  await enqueueIds(env, db, [id], now);
  return presentNotification(after);
}

export async function deliveryCounts(db: Db) {
  return outboxRepo.countByStatus(db);
}

// ---- reports ----------------------------------------------------------------

const FIGURE_KEYS = ["expiring_7_days", "expiring_30_days", "paused_mentors", "unreadable_certifications"] as const;

function figures(body: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of FIGURE_KEYS) if (Array.isArray(body[key])) out[key] = (body[key] as unknown[]).length;
  return out;
}

export function presentReportSummary(row: ReportRow) {
  return {
    report_id: row.reportId,
    kind: row.kind,
    run_id: row.runId,
    generated_at: iso(new Date(row.generatedAt)),
    figures: figures(row.body),
  };
}

export const reportPaging = keysetPaging("report_");

export async function listReports(db: Db, query: { kind?: string; limit: number; cursor?: string }) {
  const rows = await reportsRepo.listReports(db, query.limit + 1, query.kind, reportPaging.before(query.cursor));
  return reportPaging.page(rows, query.limit, (row) => row.reportId, presentReportSummary);
}

export async function getReport(db: Db, id: number) {
  const row = await reportsRepo.findReport(db, id);
  if (!row) throw new ApiError(404, "report_not_found", `No report ${id}.`, { report_id: id });
  return { ...presentReportSummary(row), body: row.body };
}
