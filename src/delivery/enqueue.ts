import type { Db } from "../db/client";
import type { Env } from "../env";
import { clock } from "../lib/clock";
import { isoMs } from "../lib/instants";
import { logEvent } from "../lib/log";
import { markQueued, pendingIdsOfRun } from "../repositories/outbox-repo";

/** Queues accept at most 100 messages per sendBatch. */
const SEND_BATCH = 100;
/** Ids read per query; a run's rows are queued in pages of this many. */
const PAGE = 1000;
/** Bounded per call (subrequests per invocation); rows beyond it are left to the sweep. */
export const ENQUEUE_MAX_PER_CALL = 20_000;

/**
 * Puts ids on the NOTIFICATIONS queue (100 per call) and records when. The
 * record comes after the send: a crash in between leaves the row looking
 * never-queued, so the sweep queues it; a duplicate message is harmless.
 */
export async function enqueueIds(env: Env, db: Db, ids: readonly number[], now: Date = clock.now()): Promise<void> {
  for (let i = 0; i < ids.length; i += SEND_BATCH) {
    await env.NOTIFICATIONS.sendBatch(ids.slice(i, i + SEND_BATCH).map((id) => ({ body: { id } })));
  }
  await markQueued(db, ids, isoMs(now));
}

/**
 * After a run's (or a step's) batch has committed: queues its pending outbox
 * rows. Call it only after a real run; a dry run writes no rows. Safe to call
 * twice (a row is claimed before it is sent). Returns how many rows it queued.
 */
export async function enqueueRunNotifications(env: Env, db: Db, run: { jobName: string; runId: string }): Promise<number> {
  let afterId = 0;
  let queued = 0;
  try {
    while (queued < ENQUEUE_MAX_PER_CALL) {
      const ids = await pendingIdsOfRun(db, run.jobName, run.runId, afterId, Math.min(PAGE, ENQUEUE_MAX_PER_CALL - queued));
      if (ids.length === 0) break;
      await enqueueIds(env, db, ids);
      queued += ids.length;
      afterId = ids[ids.length - 1]!;
    }
  } catch (error) {
    // The rows are committed; the sweep queues whatever did not make it onto the queue.
    logEvent("delivery.enqueue_failed", { job_name: run.jobName, run_id: run.runId, queued, error: String(error) }, "error");
  }
  if (queued > 0) logEvent("delivery.enqueued", { job_name: run.jobName, run_id: run.runId, queued });
  return queued;
}
