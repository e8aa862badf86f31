import { eq, SQL, sql } from "drizzle-orm";
import { rowsStatement, statement, type Db } from "../db/client";
import { auditLog, type AuditRow } from "../db/schema";
import { isoMs } from "../lib/instants";
import type { Actor } from "../services/actor";
import { newestFirst } from "./paging";

export type AuditEntry = typeof auditLog.$inferInsert;

/** An audit entry for a change `actor` made to `jobName` at `at`. */
export function auditEntry(actor: Actor, action: string, jobName: string, before: unknown, after: unknown, at: Date): AuditEntry {
  return {
    at: isoMs(at),
    action,
    jobName,
    actor: actor.label,
    requestId: actor.requestId ?? null,
    clientRequestId: actor.clientRequestId ?? null,
    sourceIp: actor.sourceIp ?? null,
    userAgent: actor.userAgent ?? null,
    before: (before ?? null) as Record<string, unknown> | null,
    after: (after ?? null) as Record<string, unknown> | null,
  };
}

/**
 * Only if the change it records took effect, in the same batch: the job is
 * at `version` after it, or (`gone`) no longer exists.
 */
export type AuditGuard = { jobId: number; version: number } | { jobId: number; gone: true } | { when: SQL };

/**
 * An entry whose `after` is computed by SQL in its own statement, from what the
 * batch it stands in is changing (the counts of a platform import, the rows a
 * pruning deleted).
 */
export type ComputedAuditEntry = Omit<AuditEntry, "after"> & { after: SQL };

function auditInsert(entry: AuditEntry | ComputedAuditEntry, guard?: AuditGuard): SQL {
  const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
  const after = entry.after instanceof SQL ? entry.after : json(entry.after);
  const condition =
    guard === undefined
      ? sql`1`
      : "when" in guard
        ? guard.when
        : "gone" in guard
        ? sql`NOT EXISTS (SELECT 1 FROM jobs WHERE job_id = ${guard.jobId})`
        : sql`EXISTS (SELECT 1 FROM jobs WHERE job_id = ${guard.jobId} AND version = ${guard.version})`;
  return sql`
    INSERT INTO audit_log (at, action, job_name, actor, request_id, client_request_id, source_ip, user_agent, before, after)
    SELECT ${entry.at}, ${entry.action}, ${entry.jobName}, ${entry.actor}, ${entry.requestId ?? null}, ${entry.clientRequestId ?? null}, ${entry.sourceIp ?? null},
           ${entry.userAgent ?? null}, ${json(entry.before)}, ${after}
    WHERE ${condition}`;
}

/**
 * The one writer of audit rows: a statement for a batch, so that the entry
 * commits in the same transaction as the change it records, and only with it.
 */
export function auditStatement(db: Db, entry: AuditEntry | ComputedAuditEntry, guard?: AuditGuard) {
  return statement(db, auditInsert(entry, guard));
}

/** The same, handing the row's `after` back (as JSON text): a reply that states what the audit row records. */
export function auditStatementReturningAfter(db: Db, entry: ComputedAuditEntry) {
  return rowsStatement<{ after: string }>(db, sql`${auditInsert(entry)} RETURNING after`);
}

/** The audit trail, newest first, optionally for one job, older than `beforeSeq` if given. */
export function listAudit(db: Db, limit: number, jobName?: string, beforeSeq?: number): Promise<AuditRow[]> {
  return newestFirst(db, auditLog, auditLog.seq, [jobName === undefined ? undefined : eq(auditLog.jobName, jobName)], beforeSeq, limit);
}
