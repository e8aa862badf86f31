import { and, asc, count, eq, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { mentors } from "../db/platform-schema";
import { jobs } from "../db/schema";

/** A trivial query through D1, timed: the storage round trip the health check reports. */
export async function pingStorage(db: Db): Promise<number> {
  const started = performance.now();
  await db.$client.prepare("SELECT 1 AS ok").first();
  return Math.round(performance.now() - started);
}

/** Names of active jobs whose next run is older than `before` (index jobs_active_next), oldest first. */
export async function listOverdueNames(db: Db, before: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ jobName: jobs.jobName })
    .from(jobs)
    .where(and(eq(jobs.isActive, true), lt(jobs.nextRunAt, before)))
    .orderBy(asc(jobs.nextRunAt))
    .limit(limit);
  return rows.map((row) => row.jobName);
}

/** Active mentors: what the nightly certification check will find (index mentors_status). */
export async function countActiveMentors(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(mentors).where(eq(mentors.status, "active"));
  return row?.n ?? 0;
}
