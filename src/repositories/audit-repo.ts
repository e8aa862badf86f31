import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditLog, type AuditRow } from "../db/schema";

/** The audit trail, newest first, optionally for one job, older than `beforeSeq` if given. */
export function listAudit(db: Db, limit: number, jobName?: string, beforeSeq?: number): Promise<AuditRow[]> {
  const filters: SQL[] = [];
  if (jobName !== undefined) filters.push(eq(auditLog.jobName, jobName));
  if (beforeSeq !== undefined) filters.push(lt(auditLog.seq, beforeSeq));
  return db
    .select()
    .from(auditLog)
    .where(filters.length ? and(...filters) : undefined)
    .orderBy(desc(auditLog.seq))
    .limit(limit);
}
