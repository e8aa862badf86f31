import { and, asc, count, eq, getTableColumns, gt, inArray, isNotNull, isNull, notExists, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { certifications, mentors, notificationOutbox, pauses, reportItems, reports } from "../db/platform-schema";

// The only place the built-in handlers' SQL is built. Reads are keyset pages
// (at most `limit` rows, one row per mentor or pause, a mentor's
// certifications folded into one JSON column), so no query returns more rows
// than one chunk. The write builders return batch items, so a handler applies
// a chunk in one db.batch together with its step's ledger row. Every write is
// conditional or ON CONFLICT DO NOTHING: applying the same plan twice changes
// nothing the second time. Lists are bound as ONE JSON parameter (D1 allows
// 100 parameters per statement) and are at most a chunk long, far below D1's
// 1 MB per value.

// ---- list helpers -----------------------------------------------------------

/** `(SELECT value FROM json_each(?))`: a whole list as ONE bound parameter, for `IN`. */
/** A list bound as ONE JSON parameter, for `IN (...)` (D1 allows 100 parameters per statement). */
export function jsonList(values: readonly unknown[]): SQL {
  return sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

/** In a {@link selectEach} column: a field of the current JSON element, or the element itself. */
function field(path?: string): SQL {
  return path === undefined ? sql`value` : sql`json_extract(value, ${`$.${path}`})`;
}

/**
 * The SELECT for `db.insert(table).select(...)` that yields one row per element
 * of `items`, all bound as ONE parameter. drizzle's insert-from-SQL names every
 * column of the table, in table order, so the SELECT list is built from the
 * table itself: columns not given take the schema's default, or NULL (an INTEGER PRIMARY KEY then gets a
 * fresh id). `db.run(sql)` would be simpler, but drizzle 0.45 cannot put a raw
 * statement with parameters into a D1 batch.
 */
function selectEach<T extends SQLiteTable>(
  table: T,
  items: readonly unknown[],
  columns: { [K in keyof T["_"]["columns"]]?: SQL | string | number },
): SQL {
  const given = columns as Record<string, SQL | string | number | undefined>;
  const list = Object.entries(getTableColumns(table)).map(([key, column]) => {
    const value = given[key];
    if (value !== undefined) return sql`${value}`;
    // The statement names every column, so SQLite's DEFAULT never applies: use the schema's own.
    const fallback = column.default;
    return fallback === undefined || fallback === null || typeof fallback === "object" ? sql`NULL` : sql`${fallback}`;
  });
  // The WHERE is not decoration: without it SQLite cannot parse the ON CONFLICT that follows.
  return sql`SELECT ${sql.join(list, sql`, `)} FROM json_each(${JSON.stringify(items)}) WHERE true`;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

/** Rows per outbox/report-item statement: a few hundred payloads keep each bound JSON list ~100-200 KB. */
const ROWS_PER_STATEMENT = 500;

// ---- the nightly certification check ---------------------------------------

/** Active mentors: the nightly check's total (one COUNT over an index). */
export async function countActiveMentors(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(mentors).where(eq(mentors.status, "active"));
  return row?.n ?? 0;
}

export interface MentorCertification {
  id: string;
  name: string;
  expires_at: string;
}

/**
 * The next page of active mentors after `afterMentorId` (null: the first),
 * each with their certifications. Walks the (status, mentor_id) index.
 */
export async function readActiveMentorPage(db: Db, afterMentorId: string | null, limit: number) {
  const rows = await db
    .select({
      mentorId: mentors.mentorId,
      name: mentors.name,
      email: mentors.email,
      certifications: sql<string>`(SELECT json_group_array(json_object('id', c.certification_id, 'name', c.name, 'expires_at', c.expires_at))
        FROM certifications c WHERE c.mentor_id = mentors.mentor_id)`.as("certs"),
    })
    .from(mentors)
    .where(and(eq(mentors.status, "active"), gt(mentors.mentorId, afterMentorId ?? "")))
    .orderBy(asc(mentors.mentorId))
    .limit(limit);
  return rows.map((r) => ({ ...r, certifications: JSON.parse(r.certifications) as MentorCertification[] }));
}

/** How many of these outbox dedupe keys exist already (one row back, however many keys). */
export async function countExistingDedupeKeys(db: Db, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  const [row] = await db
    .select({ n: count() })
    .from(notificationOutbox)
    .where(inArray(notificationOutbox.dedupeKey, jsonList(keys)));
  return row?.n ?? 0;
}

export interface PauseEffect {
  mentorIds: readonly string[];
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
  kind: string;
  dedupeKey: string;
  mentorId: string;
  payload: Record<string, unknown>;
}

/** Queues messages; a dedupe key that already exists is left alone. */
export function queueNotifications(
  db: Db,
  messages: readonly OutboxMessage[],
  createdAt: string,
  run: { runId: string; jobName: string },
): BatchItem<"sqlite">[] {
  const rows = messages.map((m) => ({
    kind: m.kind,
    dedupe_key: m.dedupeKey,
    mentor_id: m.mentorId,
    payload: JSON.stringify(m.payload),
  }));
  return chunk(rows, ROWS_PER_STATEMENT).map((part) =>
    db
      .insert(notificationOutbox)
      .select(
        selectEach(notificationOutbox, part, {
          dedupeKey: field("dedupe_key"),
          mentorId: field("mentor_id"),
          kind: field("kind"),
          payload: field("payload"),
          createdAt,
          createdByRun: run.runId,
          jobName: run.jobName,
        }),
      )
      .onConflictDoNothing({ target: notificationOutbox.dedupeKey }),
  );
}

// ---- lifting due pauses ---------------------------------------------------

const openAutoLiftPause = and(isNull(pauses.liftedAt), isNotNull(pauses.autoLiftAt));

/** Open pauses with an auto-lift time: the lift job's total. */
export async function countOpenAutoLiftPauses(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(pauses).where(openAutoLiftPause);
  return row?.n ?? 0;
}

/**
 * The next page of open pauses with an auto-lift time after `afterPauseId`,
 * each with its mentor and the expiry of every certification of that mentor.
 */
export async function readOpenAutoLiftPage(db: Db, afterPauseId: number, limit: number) {
  const rows = await db
    .select({
      pauseId: pauses.pauseId,
      mentorId: pauses.mentorId,
      reason: pauses.reason,
      pausedAt: pauses.pausedAt,
      autoLiftAt: pauses.autoLiftAt,
      name: mentors.name,
      email: mentors.email,
      expiries: sql<string>`(SELECT json_group_array(c.expires_at) FROM certifications c WHERE c.mentor_id = pauses.mentor_id)`.as(
        "expiries",
      ),
    })
    .from(pauses)
    .innerJoin(mentors, eq(mentors.mentorId, pauses.mentorId))
    .where(and(openAutoLiftPause, gt(pauses.pauseId, afterPauseId)))
    .orderBy(asc(pauses.pauseId))
    .limit(limit);
  return rows.map((r) => ({ ...r, expiries: JSON.parse(r.expiries) as string[] }));
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

// ---- the weekly report ----------------------------------------------------

/** Certifications and paused mentors: the weekly report's total. */
export async function countReportRows(db: Db): Promise<number> {
  const [certs, paused] = await db.batch([
    db.select({ n: count() }).from(certifications),
    db.select({ n: count() }).from(mentors).where(eq(mentors.status, "paused")),
  ]);
  return (certs[0]?.n ?? 0) + (paused[0]?.n ?? 0);
}

/** The next page of certifications (by id) after `afterCertificationId`, with their mentor's name. */
export function readCertificationPage(db: Db, afterCertificationId: string | null, limit: number) {
  return db
    .select({
      certificationId: certifications.certificationId,
      // Aliased: both columns are called "name".
      certificationName: sql<string>`${certifications.name}`.as("certification_name"),
      expiresAt: certifications.expiresAt,
      mentorId: certifications.mentorId,
      mentorName: sql<string>`${mentors.name}`.as("mentor_name"),
    })
    .from(certifications)
    .innerJoin(mentors, eq(mentors.mentorId, certifications.mentorId))
    .where(gt(certifications.certificationId, afterCertificationId ?? ""))
    .orderBy(asc(certifications.certificationId))
    .limit(limit);
}

export interface OpenPause {
  reason: string;
  paused_at: string;
  auto_lift_at: string | null;
}

/** The next page of paused mentors after `afterMentorId`, each with their open pauses (oldest first). */
export async function readPausedMentorPage(db: Db, afterMentorId: string | null, limit: number) {
  const rows = await db
    .select({
      mentorId: mentors.mentorId,
      name: mentors.name,
      openPauses: sql<string>`(SELECT json_group_array(json_object('reason', p.reason, 'paused_at', p.paused_at, 'auto_lift_at', p.auto_lift_at))
        FROM (SELECT * FROM pauses p WHERE p.mentor_id = mentors.mentor_id AND p.lifted_at IS NULL ORDER BY p.pause_id) p)`.as(
        "open_pauses",
      ),
    })
    .from(mentors)
    .where(and(eq(mentors.status, "paused"), gt(mentors.mentorId, afterMentorId ?? "")))
    .orderBy(asc(mentors.mentorId))
    .limit(limit);
  return rows.map((r) => ({ ...r, openPauses: JSON.parse(r.openPauses) as OpenPause[] }));
}

export interface ReportKey {
  kind: string;
  jobId: number;
  runId: string;
}

export interface ReportItem {
  list: string;
  sortKey: string;
  item: Record<string, unknown>;
}

/** Stores entries of a report's lists (an entry stored already is left alone). */
export function storeReportItems(db: Db, key: ReportKey, items: readonly ReportItem[]): BatchItem<"sqlite">[] {
  const rows = items.map((i) => ({ list: i.list, sort_key: i.sortKey, item: JSON.stringify(i.item) }));
  return chunk(rows, ROWS_PER_STATEMENT).map((part) =>
    db
      .insert(reportItems)
      .select(
        selectEach(reportItems, part, {
          kind: key.kind,
          jobId: key.jobId,
          runId: key.runId,
          list: field("list"),
          sortKey: field("sort_key"),
          item: field("item"),
        }),
      )
      .onConflictDoNothing(),
  );
}

/** The first `limit` entries of one list of a report, in the report's order. */
export async function readReportItems(db: Db, key: ReportKey, list: string, limit: number, afterSortKey = "") {
  const rows = await db
    .select({ sortKey: reportItems.sortKey, item: reportItems.item })
    .from(reportItems)
    .where(
      and(
        eq(reportItems.kind, key.kind),
        eq(reportItems.jobId, key.jobId),
        eq(reportItems.runId, key.runId),
        eq(reportItems.list, list),
        gt(reportItems.sortKey, afterSortKey),
      ),
    )
    .orderBy(asc(reportItems.sortKey))
    .limit(limit);
  return rows;
}

export async function reportExists(db: Db, key: ReportKey): Promise<boolean> {
  const rows = await db
    .select({ reportId: reports.reportId })
    .from(reports)
    .where(and(eq(reports.kind, key.kind), eq(reports.jobId, key.jobId), eq(reports.runId, key.runId)))
    .limit(1);
  return rows.length > 0;
}

/** Stores a report once per (kind, job, run id). */
export function storeReport(
  db: Db,
  report: ReportKey & { jobName: string; generatedAt: string; body: Record<string, unknown> },
): BatchItem<"sqlite">[] {
  return [
    db
      .insert(reports)
      .values(report)
      .onConflictDoNothing({ target: [reports.kind, reports.jobId, reports.runId] }),
  ];
}

/**
 * The report's notification to the coordinators (issue 12), for the batch that
 * stores the report: one per report (deduplicated by job and run), carrying
 * the report's id, read in the same transaction.
 */
export function queueReportNotification(
  db: Db,
  report: ReportKey & { jobName: string; notificationKind: string; createdAt: string; figures: Record<string, number> },
): BatchItem<"sqlite">[] {
  const payload = { report_kind: report.kind, run_id: report.runId, job_name: report.jobName, generated_at: report.createdAt, ...report.figures };
  const reportId = sql`(SELECT ${reports.reportId} FROM ${reports} WHERE ${reports.kind} = ${report.kind} AND ${reports.jobId} = ${report.jobId} AND ${reports.runId} = ${report.runId})`;
  return [
    db
      .insert(notificationOutbox)
      .select(
        selectEach(notificationOutbox, [0], {
          dedupeKey: `weekly-expiry-report:${report.jobName}:${report.jobId}:${report.runId}`,
          kind: report.notificationKind,
          payload: sql`json_set(${JSON.stringify(payload)}, '$.report_id', ${reportId})`,
          createdAt: report.createdAt,
          createdByRun: report.runId,
          jobName: report.jobName,
        }),
      )
      .onConflictDoNothing({ target: notificationOutbox.dedupeKey }),
  ];
}
