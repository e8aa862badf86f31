import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { reports, type ReportRow } from "../db/platform-schema";

/** Stored reports, newest first, optionally of one kind, older than `beforeId`. */
export function listReports(db: Db, limit: number, kind?: string, beforeId?: number): Promise<ReportRow[]> {
  const where: SQL[] = [];
  if (kind !== undefined) where.push(eq(reports.kind, kind));
  if (beforeId !== undefined) where.push(lt(reports.reportId, beforeId));
  return db
    .select()
    .from(reports)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(reports.reportId))
    .limit(limit);
}

export function findReport(db: Db, id: number): Promise<ReportRow | undefined> {
  return db.select().from(reports).where(eq(reports.reportId, id)).get();
}
