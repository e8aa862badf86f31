import type { Db } from "../db/client";
import type { Env } from "../env";
import { DAY_MS, isoMs } from "../lib/instants";
import { logEvent } from "../lib/log";
import { listOverdueUnsent, pruneSent, releaseExpiredLeases } from "../repositories/outbox-repo";
import { deliveryConfig } from "./config";
import { enqueueIds } from "./enqueue";

/** A row still unsent this long after it was due has lost its message (a crash, a restart): queue it again. */
export const REQUEUE_AFTER_MS = 3 * 60_000;
/** Rows requeued, leases released and rows pruned per call, each (bounded work per supervisor pass). */
export const SWEEP_LIMIT = 500;

export interface SweepReport {
  requeued: number;
  leases_expired: number;
  pruned: number;
}

/**
 * The outbox's safety net, run from the supervisor's pass:
 * - rows whose claim expired mid-attempt count the attempt and are queued again;
 * - pending or failed rows whose message is overdue by REQUEUE_AFTER_MS are queued again;
 * - sent rows older than NOTIFICATION_RETENTION_DAYS are deleted (personal data).
 * Each part is bounded by SWEEP_LIMIT; the next pass continues.
 */
export async function sweepOutbox(env: Env, db: Db, now: Date): Promise<SweepReport> {
  const config = deliveryConfig(env);
  const released = await releaseExpiredLeases(db, isoMs(now), config.maxAttempts, SWEEP_LIMIT);
  const overdue = await listOverdueUnsent(db, isoMs(now.getTime() - REQUEUE_AFTER_MS), SWEEP_LIMIT);
  const ids = [...new Set([...released, ...overdue])];
  if (ids.length > 0) await enqueueIds(env, db, ids, now);
  const pruned = await pruneSent(db, isoMs(now.getTime() - config.retentionDays * DAY_MS), SWEEP_LIMIT);
  const report = { requeued: ids.length, leases_expired: released.length, pruned };
  if (ids.length > 0 || pruned > 0) logEvent("delivery.sweep", { ...report });
  return report;
}
