import { and, eq, inArray, isNotNull, isNull, notExists, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { certifications, mentors, notificationOutbox, pauses, reports } from "../db/platform-schema";
import { field, jsonList, selectEach } from "./effects";

// The only place the built-in handlers build SQL. Reads return plain rows; the
// write builders return batch items so a handler can apply its whole plan in
// one db.batch. Every write is conditional or ON CONFLICT DO NOTHING, so
// applying the same plan twice changes nothing the second time.

// ---- reads ---------------------------------------------------------------

/** Every active mentor with each of their certifications (one row per mentor without any). */
export function readActiveMentorCertifications(db: Db) {
  return db
    .select({
      mentorId: mentors.mentorId,
      email: mentors.email,
      certificationId: certifications.certificationId,
      certificationName: certifications.name,
      expiresAt: certifications.expiresAt,
    })
    .from(mentors)
    .leftJoin(certifications, eq(certifications.mentorId, mentors.mentorId))
    .where(eq(mentors.status, "active"));
}

/** Which of these outbox dedupe keys already exist. */
export async function readExistingDedupeKeys(db: Db, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db
    .select({ dedupeKey: notificationOutbox.dedupeKey })
    .from(notificationOutbox)
    .where(inArray(notificationOutbox.dedupeKey, jsonList(keys)));
  return new Set(rows.map((r) => r.dedupeKey));
}

const openAutoLiftPause = and(isNull(pauses.liftedAt), isNotNull(pauses.autoLiftAt));

/** Open pauses that have an auto-lift time, and the certifications of their mentors: one round trip. */
export async function readAutoLiftCandidates(db: Db) {
  const [openPauses, mentorCertifications] = await db.batch([
    db
      .select({ pauseId: pauses.pauseId, mentorId: pauses.mentorId, autoLiftAt: pauses.autoLiftAt })
      .from(pauses)
      .where(openAutoLiftPause)
      .orderBy(pauses.pauseId),
    db
      .select({
        mentorId: certifications.mentorId,
        certificationId: certifications.certificationId,
        expiresAt: certifications.expiresAt,
      })
      .from(certifications)
      .where(
        inArray(
          certifications.mentorId,
          db.select({ mentorId: pauses.mentorId }).from(pauses).where(openAutoLiftPause),
        ),
      ),
  ]);
  return { openPauses, mentorCertifications };
}

/** Everything the weekly report lists, and whether this run already stored it: one round trip. */
export async function readWeeklyReportInputs(db: Db, kind: string, runId: string) {
  const [allCertifications, pausedMentors, existing] = await db.batch([
    db
      .select({
        mentorId: mentors.mentorId,
        // Aliased: both columns are called "name", and drizzle maps D1 batch
        // results by column name, so the second would overwrite the first.
        mentorName: sql<string>`${mentors.name}`.as("mentor_name"),
        certificationId: certifications.certificationId,
        certificationName: sql<string>`${certifications.name}`.as("certification_name"),
        expiresAt: certifications.expiresAt,
      })
      .from(certifications)
      .innerJoin(mentors, eq(mentors.mentorId, certifications.mentorId)),
    db
      .select({
        mentorId: mentors.mentorId,
        name: mentors.name,
        reason: pauses.reason,
        pausedAt: pauses.pausedAt,
        autoLiftAt: pauses.autoLiftAt,
      })
      .from(mentors)
      .leftJoin(pauses, and(eq(pauses.mentorId, mentors.mentorId), isNull(pauses.liftedAt)))
      .where(eq(mentors.status, "paused"))
      .orderBy(mentors.mentorId, pauses.pauseId),
    db
      .select({ reportId: reports.reportId })
      .from(reports)
      .where(and(eq(reports.kind, kind), eq(reports.runId, runId))),
  ]);
  return { allCertifications, pausedMentors, reportExists: existing.length > 0 };
}

// ---- writes --------------------------------------------------------------

export interface PauseEffect {
  mentorIds: string[];
  reason: string;
  pausedAt: string;
  runId: string;
}

/**
 * Opens a pause per mentor (the partial unique index pauses_open makes a second
 * one a no-op) and marks those still active paused.
 */
export function pauseMentors(db: Db, effect: PauseEffect): BatchItem<"sqlite">[] {
  if (effect.mentorIds.length === 0) return [];
  return [
    db
      .insert(pauses)
      .select(
        selectEach(pauses, effect.mentorIds, {
          mentorId: field(),
          reason: effect.reason,
          pausedAt: effect.pausedAt,
          createdByRun: effect.runId,
        }),
      )
      .onConflictDoNothing(), // the partial unique index pauses_open: one open pause per mentor and reason
    db
      .update(mentors)
      .set({ status: "paused" })
      .where(and(inArray(mentors.mentorId, jsonList(effect.mentorIds)), eq(mentors.status, "active"))),
  ];
}

export interface OutboxMessage {
  dedupeKey: string;
  /** null: addressed to coordinators (e.g. the weekly report). */
  mentorId: string | null;
  payload: Record<string, unknown>;
}

/** Queues messages; a dedupe key that already exists is left alone. */
export function queueNotifications(
  db: Db,
  kind: string,
  messages: readonly OutboxMessage[],
  createdAt: string,
  runId: string,
  /** The job whose run writes the rows (run ids are per job, so the pair says where a row came from). */
  jobName?: string,
): BatchItem<"sqlite">[] {
  if (messages.length === 0) return [];
  const rows = messages.map((m) => ({
    dedupe_key: m.dedupeKey,
    mentor_id: m.mentorId,
    payload: JSON.stringify(m.payload),
  }));
  // A few hundred payloads per statement keeps each bound JSON list well under
  // D1's 2 MB value limit; it is still one batch, so still one transaction.
  return chunk(rows, OUTBOX_ROWS_PER_STATEMENT).map((part) =>
    db
      .insert(notificationOutbox)
      .select(
        selectEach(notificationOutbox, part, {
          dedupeKey: field("dedupe_key"),
          mentorId: field("mentor_id"),
          kind,
          payload: field("payload"),
          createdAt,
          createdByRun: runId,
          ...(jobName === undefined ? {} : { jobName }),
        }),
      )
      .onConflictDoNothing({ target: notificationOutbox.dedupeKey }),
  );
}

const OUTBOX_ROWS_PER_STATEMENT = 500;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

/**
 * Lifts the given pauses (only those still open), then reactivates those of
 * their mentors left with no open pause at all. The order matters: the second
 * statement sees the first one's lifts inside the same transaction.
 */
export function liftPauses(
  db: Db,
  pauseIds: readonly number[],
  mentorIds: readonly string[],
  liftedAt: string,
): BatchItem<"sqlite">[] {
  if (pauseIds.length === 0) return [];
  return [
    db
      .update(pauses)
      .set({ liftedAt })
      .where(and(inArray(pauses.pauseId, jsonList(pauseIds)), isNull(pauses.liftedAt))),
    db
      .update(mentors)
      .set({ status: "active" })
      .where(
        and(
          inArray(mentors.mentorId, jsonList(mentorIds)),
          eq(mentors.status, "paused"),
          notExists(
            db
              .select({ one: sql`1` })
              .from(pauses)
              .where(and(eq(pauses.mentorId, mentors.mentorId), isNull(pauses.liftedAt))),
          ),
        ),
      ),
  ];
}

/** Stores a report once per (kind, run id). */
export function storeReport(
  db: Db,
  report: { kind: string; runId: string; generatedAt: string; body: Record<string, unknown> },
): BatchItem<"sqlite">[] {
  return [db.insert(reports).values(report).onConflictDoNothing({ target: [reports.kind, reports.runId] })];
}

export const REPORT_NOTIFICATION_KIND = "weekly_expiry_report";

/**
 * issue 12: the coordinators' notification of a report stored in the same
 * batch. Its payload gets the report's id from the row just written (the id
 * is not known before the batch), so the message can link to the report's page.
 * Deduplicated per report (job and run).
 */
export function queueReportNotification(
  db: Db,
  report: { reportKind: string; runId: string; jobName: string; createdAt: string; figures: Record<string, number> },
): BatchItem<"sqlite">[] {
  const payload = { report_kind: report.reportKind, run_id: report.runId, job_name: report.jobName, generated_at: report.createdAt, ...report.figures };
  return [
    db
      .insert(notificationOutbox)
      .select(
        selectEach(notificationOutbox, [0], {
          dedupeKey: `weekly-expiry-report:${report.jobName}:${report.runId}`,
          kind: REPORT_NOTIFICATION_KIND,
          payload: sql`json_set(${JSON.stringify(payload)}, '$.report_id', (SELECT ${reports.reportId} FROM ${reports} WHERE ${reports.kind} = ${report.reportKind} AND ${reports.runId} = ${report.runId}))`,
          createdAt: report.createdAt,
          createdByRun: report.runId,
          jobName: report.jobName,
        }),
      )
      .onConflictDoNothing({ target: notificationOutbox.dedupeKey }),
  ];
}
