import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { reports, type ReportRow } from "../db/platform-schema";
import { newestFirst } from "./paging";

/** Stored reports, newest first, optionally of one kind, older than `beforeId`. */
export function listReports(db: Db, limit: number, kind?: string, beforeId?: number): Promise<ReportRow[]> {
  return newestFirst(db, reports, reports.reportId, [kind === undefined ? undefined : eq(reports.kind, kind)], beforeId, limit);
}

export function findReport(db: Db, id: number): Promise<ReportRow | undefined> {
  return db.select().from(reports).where(eq(reports.reportId, id)).get();
}
