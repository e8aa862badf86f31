import { inArray, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { certifications, mentors, pauses } from "../db/platform-schema";
import { auditStatementReturningAfter, type AuditEntry } from "./audit-repo";

// The import API's SQL (docs/platform-data.md). Every write of one request is
// ONE D1 batch, which D1 runs as one transaction: the rows and the audit entry
// land together or not at all. Rows travel as ONE bound JSON parameter read
// through json_each, never as one placeholder per value: D1 allows 100 bound
// parameters per statement, and a statement of 1,000 spelled-out rows would
// pass its 100 KB limit.

/**
 * Rows per statement. One bound value may be at most 1 MB in production D1;
 * the body may be 1 MiB, and non-ASCII text can make the re-serialised rows
 * as large as the body, so a batch is split into several statements (still
 * one batch, one transaction), each well under the limit.
 */
export const ROWS_PER_STATEMENT = 250;

export interface MentorInput {
  mentor_id: string;
  name: string;
  email: string;
  status: "active" | "paused";
}

export interface CertificationInput {
  certification_id: string;
  mentor_id: string;
  name: string;
  expires_at: string;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

/** `(SELECT value FROM json_each(?))`: a whole id list as one bound parameter. */
const jsonIds = (ids: readonly string[]): SQL => sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;

/** A field of the current json_each element. */
const col = (name: string): SQL => sql`json_extract(value, ${`$.${name}`})`;

/**
 * The SELECT for an INSERT ... SELECT, one row per element. drizzle names
 * every column of the table, in table order, so `columns` must list them all
 * in that order. The WHERE is not decoration: without it SQLite cannot parse
 * the ON CONFLICT that follows.
 */
const selectRows = (rows: readonly unknown[], columns: SQL[]): SQL =>
  sql`SELECT ${sql.join(columns, sql`, `)} FROM json_each(${JSON.stringify(rows)}) WHERE true`;

/** An audit entry without its `after`, which the repository fills with the counts. */
export type AuditBase = Omit<AuditEntry, "after">;

/**
 * The request's audit row, FIRST in its batch: `after` is a JSON object of
 * counts computed by SQL inside the transaction, before the writes that follow
 * (so "updated" means "was stored already"). RETURNING hands the same counts
 * back for the reply: one statement, and reply and audit cannot disagree.
 */
function auditCounts(db: Db, base: AuditBase, counts: Record<string, SQL>) {
  const pairs = Object.entries(counts).flatMap(([key, value]) => [sql`${key}`, value]);
  return auditStatementReturningAfter(db, { ...base, before: null, after: sql`json_object(${sql.join(pairs, sql`, `)})` });
}

/** `(SELECT count(*) FROM table WHERE column IN ids)` as a counts entry. */
const countIn = (table: typeof mentors | typeof certifications | typeof pauses, column: AnySQLiteColumn, ids: SQL): SQL =>
  sql`(SELECT count(*) FROM ${table} WHERE ${column} IN ${ids})`;

type Counts<K extends string> = Record<K, number>;

async function run<K extends string>(db: Db, audit: ReturnType<typeof auditCounts>, writes: BatchItem<"sqlite">[]): Promise<Counts<K>> {
  const [returned] = await db.batch([audit, ...writes]);
  return JSON.parse(returned[0]!.after) as Counts<K>;
}

/**
 * Upserts mentors by mentor_id, with the audit entry, in one transaction.
 * A new mentor gets created_at = `createdAt`; an existing one keeps its own.
 */
export function upsertMentors(db: Db, rows: readonly MentorInput[], createdAt: string, audit: AuditBase) {
  const stored = countIn(mentors, mentors.mentorId, jsonIds(rows.map((r) => r.mentor_id)));
  const writes = chunk(rows, ROWS_PER_STATEMENT).map((part) =>
    db
      .insert(mentors)
      .select(selectRows(part, [col("mentor_id"), col("name"), col("email"), col("status"), sql`${createdAt}`]))
      .onConflictDoUpdate({
        target: mentors.mentorId,
        set: { name: sql`excluded.name`, email: sql`excluded.email`, status: sql`excluded.status` },
      }),
  );
  const counts = { rows: sql`${rows.length}`, created: sql`${rows.length} - ${stored}`, updated: stored };
  return run<"rows" | "created" | "updated">(db, auditCounts(db, audit, counts), writes);
}

/**
 * Upserts certifications by certification_id, with the audit entry, in one
 * transaction. The caller has checked that every mentor exists; the foreign
 * key still refuses the whole batch if one was deleted in between.
 */
export function upsertCertifications(db: Db, rows: readonly CertificationInput[], audit: AuditBase) {
  const stored = countIn(certifications, certifications.certificationId, jsonIds(rows.map((r) => r.certification_id)));
  const writes = chunk(rows, ROWS_PER_STATEMENT).map((part) =>
    db
      .insert(certifications)
      .select(selectRows(part, [col("certification_id"), col("mentor_id"), col("name"), col("expires_at")]))
      .onConflictDoUpdate({
        target: certifications.certificationId,
        set: { mentorId: sql`excluded.mentor_id`, name: sql`excluded.name`, expiresAt: sql`excluded.expires_at` },
      }),
  );
  const counts = { rows: sql`${rows.length}`, created: sql`${rows.length} - ${stored}`, updated: stored };
  return run<"rows" | "created" | "updated">(db, auditCounts(db, audit, counts), writes);
}

/** The distinct mentor ids among these that are not stored, in the order given. */
export async function findMissingMentors(db: Db, mentorIds: readonly string[]): Promise<string[]> {
  const distinct = [...new Set(mentorIds)];
  const rows = await db
    .select({ id: sql<string>`value` })
    .from(sql`json_each(${JSON.stringify(distinct)})`)
    .where(sql`value NOT IN (SELECT ${mentors.mentorId} FROM ${mentors})`);
  const missing = new Set(rows.map((r) => r.id));
  return distinct.filter((id) => missing.has(id));
}

/**
 * Deletes mentors with their certifications and pauses (the foreign keys
 * would refuse a mentor that still has either), with the audit entry, in one
 * transaction. Ids not stored are ignored: deleting twice is not an error.
 */
export function deleteMentors(db: Db, ids: readonly string[], audit: AuditBase) {
  const list = jsonIds(ids);
  const counts = {
    mentors: countIn(mentors, mentors.mentorId, list),
    certifications: countIn(certifications, certifications.mentorId, list),
    pauses: countIn(pauses, pauses.mentorId, list),
  };
  return run<"mentors" | "certifications" | "pauses">(db, auditCounts(db, audit, counts), [
    db.delete(pauses).where(inArray(pauses.mentorId, list)),
    db.delete(certifications).where(inArray(certifications.mentorId, list)),
    db.delete(mentors).where(inArray(mentors.mentorId, list)),
  ]);
}

/** Deletes certifications by id, with the audit entry, in one transaction. Ids not stored are ignored. */
export function deleteCertifications(db: Db, ids: readonly string[], audit: AuditBase) {
  const list = jsonIds(ids);
  const counts = { certifications: countIn(certifications, certifications.certificationId, list) };
  return run<"certifications">(db, auditCounts(db, audit, counts), [
    db.delete(certifications).where(inArray(certifications.certificationId, list)),
  ]);
}
