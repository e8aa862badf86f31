import { and, count, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditStatement, type AuditEntry } from "./audit-repo";
import { notificationOutbox as outbox, type NotificationRow, type OutboxStatus } from "../db/platform-schema";
import { newestFirst } from "./paging";
import { jsonList } from "./platform-repo";

// Every outbox write after a run's commit. Claims and results are conditional
// (status, lease token), so a redelivered message, the sweep and a retry can
// race freely: at most one of them holds a row, and a sent row stays sent.

/**
 * The status column with SQLite's unary `+`, for writes that name their rows
 * by id: it keeps the planner from driving the statement from the status index
 * (every pending or sending row of a backlog, each checked against the id list)
 * instead of looking up the listed ids, so the cost follows the list, not the backlog.
 */
const statusOfListed = sql<OutboxStatus>`+${outbox.status}`;

/**
 * Claims the rows among `ids` that may be sent now: unsent and due (a little
 * early is fine: a queue delay and the row's time come from different clocks),
 * or `sending` under a lease that has expired. Returns the claimed rows.
 */
export async function claimRows(db: Db, ids: readonly number[], now: string, dueBy: string, leaseUntil: string, token: string): Promise<NotificationRow[]> {
  if (ids.length === 0) return [];
  return db
    .update(outbox)
    .set({ status: "sending", leaseUntil, leaseToken: token })
    .where(
      and(
        inArray(outbox.notificationId, jsonList(ids)),
        or(
          and(inArray(statusOfListed, ["pending", "failed"]), or(isNull(outbox.nextAttemptAt), lte(outbox.nextAttemptAt, dueBy))),
          and(eq(statusOfListed, "sending"), lte(outbox.leaseUntil, now)),
        ),
      ),
    )
    .returning();
}

export interface RowResult {
  id: number;
  status: Exclude<OutboxStatus, "sending">;
  attempts: number;
  lastError: string | null;
  deliveredTo: string[];
  nextAttemptAt: string | null;
  sentAt: string | null;
}

/**
 * Writes the outcome of every claimed row in ONE statement (the results as one
 * JSON parameter; D1 allows 100 bound parameters, and a statement per row costs
 * a round trip each). A row whose lease was taken over meanwhile is left alone.
 */
export async function finishRows(db: Db, token: string, results: readonly RowResult[]): Promise<void> {
  if (results.length === 0) return;
  const list = JSON.stringify(
    results.map((r) => ({
      id: r.id,
      status: r.status,
      attempts: r.attempts,
      last_error: r.lastError,
      delivered_to: JSON.stringify(r.deliveredTo),
      next_attempt_at: r.nextAttemptAt,
      sent_at: r.sentAt,
    })),
  );
  const field = (name: string) => sql.raw(`json_extract(r.value, '$.${name}')`);
  await db.run(sql`
    UPDATE ${outbox} SET
      status = ${field("status")},
      attempts = ${field("attempts")},
      last_error = ${field("last_error")},
      delivered_to = ${field("delivered_to")},
      next_attempt_at = ${field("next_attempt_at")},
      sent_at = ${field("sent_at")},
      lease_until = NULL,
      lease_token = NULL
    FROM json_each(${list}) AS r
    WHERE ${outbox.notificationId} = ${field("id")} AND ${statusOfListed} = 'sending' AND ${outbox.leaseToken} = ${token}`);
}

/** Notes on unsent rows why nothing was sent (delivery misconfigured); the sweep queues them again later. */
export async function noteNotSent(db: Db, ids: readonly number[], error: string, now: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(outbox)
    .set({ lastError: error, nextAttemptAt: now })
    .where(and(inArray(outbox.notificationId, jsonList(ids)), inArray(statusOfListed, ["pending", "failed"])));
}

/** Ids of a run's rows still pending, in id order, after `afterId`. */
export async function pendingIdsOfRun(db: Db, jobName: string, runId: string, afterId: number, limit: number): Promise<number[]> {
  const rows = await db
    .select({ id: outbox.notificationId })
    .from(outbox)
    .where(
      and(
        eq(outbox.createdByRun, runId),
        // Rows written before job_name existed, or by a handler that does not pass it, still belong to the run.
        or(eq(outbox.jobName, jobName), isNull(outbox.jobName)),
        eq(outbox.status, "pending"),
        sql`${outbox.notificationId} > ${afterId}`,
      ),
    )
    .orderBy(outbox.notificationId)
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Records that these unsent rows were put on the queue at `at` (the sweep requeues them if still unsent later). */
export async function markQueued(db: Db, ids: readonly number[], at: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(outbox)
    .set({ nextAttemptAt: at })
    .where(
      and(
        inArray(outbox.notificationId, jsonList(ids)),
        // A row the consumer already failed meanwhile keeps its backoff time.
        or(eq(statusOfListed, "pending"), and(eq(statusOfListed, "failed"), lte(outbox.nextAttemptAt, at))),
      ),
    );
}

/** Unsent rows whose message should have come by `before` (lost in a crash or a restart), oldest first. */
export async function listOverdueUnsent(db: Db, before: string, limit: number): Promise<number[]> {
  const rows = await db
    .select({ id: outbox.notificationId })
    .from(outbox)
    .where(and(inArray(outbox.status, ["pending", "failed"]), lte(sql`coalesce(${outbox.nextAttemptAt}, ${outbox.createdAt})`, before)))
    .orderBy(outbox.notificationId)
    .limit(limit);
  return rows.map((r) => r.id);
}

/**
 * Rows whose claim expired mid-attempt (the consumer died): the attempt counts,
 * and they become `failed` (or `dead` at the last attempt) so they are sent again.
 */
export async function releaseExpiredLeases(db: Db, now: string, maxAttempts: number, limit: number): Promise<number[]> {
  const expired = db
    .select({ id: outbox.notificationId })
    .from(outbox)
    .where(and(eq(outbox.status, "sending"), lte(outbox.leaseUntil, now)))
    .limit(limit);
  const rows = await db
    .update(outbox)
    .set({
      status: sql`CASE WHEN ${outbox.attempts} + 1 >= ${maxAttempts} THEN 'dead' ELSE 'failed' END`,
      attempts: sql`${outbox.attempts} + 1`,
      lastError: "the attempt's lease expired before it finished (the consumer stopped mid-attempt)",
      nextAttemptAt: now,
      leaseUntil: null,
      leaseToken: null,
    })
    .where(and(inArray(outbox.notificationId, expired), eq(outbox.status, "sending"), lte(outbox.leaseUntil, now)))
    .returning({ id: outbox.notificationId, status: outbox.status });
  return rows.filter((r) => r.status === "failed").map((r) => r.id);
}

/** Deletes up to `limit` sent rows sent before `before` (they hold personal data). */
export async function pruneSent(db: Db, before: string, limit: number): Promise<number> {
  const old = db
    .select({ id: outbox.notificationId })
    .from(outbox)
    .where(and(eq(outbox.status, "sent"), lt(outbox.sentAt, before)))
    .limit(limit);
  const deleted = await db.delete(outbox).where(inArray(outbox.notificationId, old)).returning({ id: outbox.notificationId });
  return deleted.length;
}

/** Marks dead the rows whose queue messages ran out of queue retries (dead-letter queue), unless sent meanwhile. */
export async function markDeadLettered(db: Db, ids: readonly number[], now: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(outbox)
    .set({
      status: "dead",
      lastError: sql`coalesce(${outbox.lastError} || '; ', '') || 'the queue gave up on its message (dead-letter queue)'`,
      leaseUntil: null,
      leaseToken: null,
    })
    .where(
      and(
        inArray(outbox.notificationId, jsonList(ids)),
        or(inArray(statusOfListed, ["pending", "failed"]), and(eq(statusOfListed, "sending"), lte(outbox.leaseUntil, now))),
      ),
    );
}

export interface OutboxFilter {
  status?: OutboxStatus;
  kind?: string;
  mentorId?: string;
  runId?: string;
  jobName?: string;
  beforeId?: number;
}

/** Newest first. */
export function listNotifications(db: Db, filter: OutboxFilter, limit: number): Promise<NotificationRow[]> {
  return newestFirst(
    db,
    outbox,
    outbox.notificationId,
    [
      filter.status ? eq(outbox.status, filter.status) : undefined,
      filter.kind ? eq(outbox.kind, filter.kind) : undefined,
      filter.mentorId ? eq(outbox.mentorId, filter.mentorId) : undefined,
      filter.runId ? eq(outbox.createdByRun, filter.runId) : undefined,
      filter.jobName ? eq(outbox.jobName, filter.jobName) : undefined,
    ],
    filter.beforeId,
    limit,
  );
}

export function findNotification(db: Db, id: number): Promise<NotificationRow | undefined> {
  return db.select().from(outbox).where(eq(outbox.notificationId, id)).get();
}

export async function countByStatus(db: Db): Promise<Record<OutboxStatus, number>> {
  const rows = await db.select({ status: outbox.status, n: count() }).from(outbox).groupBy(outbox.status);
  const counts = { pending: 0, sending: 0, sent: 0, failed: 0, dead: 0 };
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}

/**
 * Puts a dead or failed row back to pending with its retries restored, and
 * audits it, in one transaction. Returns the row, or undefined if it was not
 * dead or failed (any more).
 */
export async function resetForRetry(
  db: Db,
  id: number,
  now: string,
  audit: AuditEntry,
): Promise<NotificationRow | undefined> {
  const [updated] = await db.batch([
    db
      .update(outbox)
      .set({ status: "pending", attempts: 0, nextAttemptAt: now, leaseUntil: null, leaseToken: null })
      .where(and(eq(outbox.notificationId, id), inArray(outbox.status, ["dead", "failed"])))
      .returning(),
    // Written only when the update above changed a row.
    auditStatement(db, audit, { when: sql`changes() = 1` }),
  ]);
  return updated[0];
}

export interface RunDeliveries {
  queued: number;
  sent: number;
  failed: number;
  dead: number;
}

/** Per run id of one job: how its notifications stand (queued = pending or being sent). */
export async function deliveriesOfRuns(db: Db, jobName: string, runIds: readonly string[]): Promise<Map<string, RunDeliveries>> {
  const result = new Map<string, RunDeliveries>();
  if (runIds.length === 0) return result;
  const rows = await db
    .select({ runId: outbox.createdByRun, status: outbox.status, n: count() })
    .from(outbox)
    .where(and(inArray(outbox.createdByRun, jsonList(runIds)), or(eq(outbox.jobName, jobName), isNull(outbox.jobName))))
    .groupBy(outbox.createdByRun, outbox.status);
  for (const row of rows) {
    const entry = result.get(row.runId!) ?? { queued: 0, sent: 0, failed: 0, dead: 0 };
    if (row.status === "pending" || row.status === "sending") entry.queued += row.n;
    else entry[row.status] += row.n;
    result.set(row.runId!, entry);
  }
  return result;
}
