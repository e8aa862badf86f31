import { DurableObject } from "cloudflare:workers";
import { createDb, type Db } from "../db/client";
import { sweepOutbox } from "../delivery/sweep";
import type { Env } from "../env";
import { clock } from "../lib/clock";
import { isoMs } from "../lib/instants";
import { logEvent } from "../lib/log";
import { listJobsAfter, listUnarmedOrOverdue } from "../repositories/jobs-repo";
import { watchDeadlines } from "../services/deadlines";
import { runRetention } from "../services/retention";
import { pruneRunSteps } from "../services/run-steps-retention";
import { ON_TIME_GRACE_MS } from "./due-plan";

/** How often the supervisor's own alarm runs a pass. */
export const PASS_INTERVAL_MS = 60_000;
/** Jobs whose object is inspected in full per pass (a rolling window over all jobs). */
export const INSPECT_PER_PASS = 100;
const OVERDUE_SCAN_LIMIT = 500;
/** A gap between passes this long means the service was not running (passes come every PASS_INTERVAL_MS, the Cron Trigger every 5 minutes). */
const DOWN_AFTER_MS = 3 * PASS_INTERVAL_MS;

export interface PassReport {
  at: string;
  repaired: { job_name: string; repairs: string[] }[];
  inspected: number;
  pruned_runs: number;
  /** Alerts the dead man's switch opened candidates for (missed instants, runs past their finish deadline). */
  alerts?: { missed: number; late: number };
}

/**
 * Self-repair. One object, woken by its own alarm (which works under
 * `wrangler dev`) with the Worker's Cron Trigger as a backstop in production.
 * Each pass makes every job's object agree with D1:
 * - active jobs never armed, or overdue, are re-armed (cheap: one indexed query);
 * - a rolling window of jobs is inspected in full (a missing alarm, a schedule
 *   that differs, an alarm left for a paused job);
 * and it prunes run history beyond the retention limit for those jobs.
 * The pass reads only which jobs to look at; each job's object (its one
 * owner) decides its own repair from a fresh read.
 */
export class Supervisor extends DurableObject<Env> {
  private readonly db: Db;
  private running: Promise<PassReport> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = createDb(env.DB);
  }

  /** Makes sure passes are scheduled; runs the first one now if there has never been one. */
  async ensureStarted(): Promise<void> {
    if (this.ctx.storage.kv.get("last_pass") === undefined) await this.runPass();
    else if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PASS_INTERVAL_MS);
  }

  override async alarm(): Promise<void> {
    await this.runPass();
  }

  /** One pass; concurrent callers share it. */
  runPass(): Promise<PassReport> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  lastPass(): PassReport | null {
    return this.ctx.storage.kv.get<PassReport>("last_pass") ?? null;
  }

  private async pass(): Promise<PassReport> {
    const now = clock.now();
    const report: PassReport = { at: isoMs(now), repaired: [], inspected: 0, pruned_runs: 0 };
    const previous = this.lastPass();
    try {
      // First, from D1 alone: an instant nobody ran is missed whatever the job's object did
      // (a lost alarm), and a gap in the passes means the service itself was down.
      const since = previous === null ? null : Date.parse(previous.at);
      const down = since !== null && now.getTime() - since > DOWN_AFTER_MS ? { from: since, to: now.getTime() } : null;
      // Instants before the service's first pass ever (a fresh deployment) are not held against any job.
      const watching = this.ctx.storage.kv.get<number>("first_pass_at") ?? now.getTime();
      this.ctx.storage.kv.put("first_pass_at", watching);
      const deadlineCursor = this.ctx.storage.kv.get<string>("deadline_cursor") ?? "";
      const deadlines = await watchDeadlines(this.env, this.db, now, { cursor: deadlineCursor, watchingSince: watching, down }).catch((error) => {
        logEvent("alerts.deadlines_failed", { error: String(error) }, "error");
        return null;
      });
      if (deadlines) {
        this.ctx.storage.kv.put("deadline_cursor", deadlines.cursor);
        report.alerts = { missed: deadlines.missed, late: deadlines.late };
      }

      const overdueBefore = isoMs(now.getTime() - ON_TIME_GRACE_MS);
      const urgent = await listUnarmedOrOverdue(this.db, overdueBefore, OVERDUE_SCAN_LIMIT);
      const cursor = this.ctx.storage.kv.get<string>("cursor") ?? "";
      const window = await listJobsAfter(this.db, cursor, INSPECT_PER_PASS);
      this.ctx.storage.kv.put("cursor", window.length < INSPECT_PER_PASS ? "" : window[window.length - 1]!.jobName);

      // Only names: each object decides its repair from its own fresh read, in its own turn,
      // so a change that lands during the pass is never undone by what the pass read.
      for (const jobName of new Set([...urgent, ...window].map((row) => row.jobName))) {
        try {
          const repairs = await this.env.JOB_SCHEDULER.getByName(jobName).reconcile(jobName);
          report.inspected++;
          if (repairs.length > 0) {
            report.repaired.push({ job_name: jobName, repairs });
            logEvent("job.repair", { job_name: jobName, repairs }, "warn");
          }
        } catch (error) {
          // One object failing must not stop the others from being repaired.
          logEvent("job.repair_failed", { job_name: jobName, error: String(error) }, "error");
        }
      }
      report.pruned_runs += (await runRetention(this.env, this.db, now, window.map((row) => row.jobId))).runs;
      await pruneRunSteps(this.db, now);
      // Delivery: requeue notifications lost between commit and send or stalled in a lease, and prune old sent ones.
      await sweepOutbox(this.env, this.db, now).catch((error) => logEvent("delivery.sweep_failed", { error: String(error) }, "error"));
    } finally {
      this.ctx.storage.kv.put("last_pass", report);
      await this.ctx.storage.setAlarm(Date.now() + PASS_INTERVAL_MS);
    }
    logEvent("supervisor.pass", { inspected: report.inspected, repaired: report.repaired.length, pruned_runs: report.pruned_runs });
    return report;
  }
}
