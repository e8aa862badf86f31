import { env as workerEnv } from "cloudflare:workers";
import type { Db } from "../db/client";
import { enqueueRunNotifications } from "../delivery/enqueue";
import type { Env } from "../env";
import { getHandler } from "../handlers";
import { clock } from "../lib/clock";
import { formatRunId, isoMs } from "../lib/ids";
import { logEvent } from "../lib/log";
import { replaceNextRunAt } from "../repositories/jobs-repo";
import { admitScheduledRun, finishRun, recordScheduledRun, setAttempts, type ScheduledRun } from "../repositories/runs-repo";
import { retryDelayMs, type JobConfig } from "./job-config";

/**
 * How long a scheduled run may go before it is written to D1 as `running`.
 * A run that finishes sooner (most do) is written once, finished: one D1
 * batch per run. One that takes longer shows as running from then on.
 */
export const ADMIT_AFTER_MS = 10_000;

/** A run in progress, as stored in its job's object (it survives a restart). */
export interface RunningEntry {
  key: string;
  /** The run's number in D1; null for a scheduled run not written to D1 yet. */
  seq: number | null;
  runId: string | null;
  jobId: number;
  jobName: string;
  handler: string;
  dryRun: boolean;
  triggeredBy: string;
  scheduledFor: string | null;
  catchUp: boolean;
  startedAt: number;
  attempts: number;
  maxRetries: number;
  timeoutSeconds: number;
  /** When the current attempt is given up on; null while waiting for a retry. */
  deadlineAt: number | null;
  /** When the next attempt starts; null while an attempt is going. */
  retryAt: number | null;
  /** When a scheduled run still going is written to D1 as running; null once it is. */
  admitAt: number | null;
}

export interface StartRun {
  /** Known for a manual run (admitted before it starts); null for a scheduled one. */
  seq: number | null;
  startedAt: Date;
  scheduledFor: Date | null;
  catchUp: boolean;
  triggeredBy: string;
  dryRun: boolean;
}

type Outcome = { status: "success" | "failed"; summary: Record<string, number> | null; error: string | null };

const PREFIX = "run:";

/**
 * Executes the runs of one job object: attempts, retries with backoff, the
 * timeout of a run whose object died, and the record in D1. Retries, timeouts
 * and late admissions are driven by the object's alarm, so they survive a restart.
 */
export class RunExecutor {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly db: Db,
    private readonly rearm: () => Promise<void>,
    /** The job's next instant as the object holds it now (written to D1 with each record). */
    private readonly nextRunAt: () => string | null,
    /** Called when D1 no longer has this registration active while the object still schedules it. */
    private readonly onStale: (jobId: number) => void,
  ) {}

  list(): RunningEntry[] {
    return [...this.ctx.storage.kv.list<RunningEntry>({ prefix: PREFIX })].map(([, entry]) => entry);
  }

  /** The instants this executor needs the alarm for. */
  wakeTimes(entries = this.list()): number[] {
    return entries.flatMap((e) => [e.deadlineAt, e.retryAt, e.admitAt].filter((t): t is number => t !== null));
  }

  /** Records the run as in progress in this object and starts its first attempt (not awaited). */
  start(config: JobConfig, run: StartRun): RunningEntry {
    const startedAt = run.startedAt.getTime();
    const entry: RunningEntry = {
      key: run.seq !== null ? `${PREFIX}m${String(run.seq).padStart(12, "0")}` : `${PREFIX}s${run.scheduledFor!.getTime()}`,
      seq: run.seq,
      runId: run.seq !== null ? formatRunId(run.seq) : null,
      jobId: config.jobId,
      jobName: config.jobName,
      handler: config.handler,
      dryRun: run.dryRun,
      triggeredBy: run.triggeredBy,
      scheduledFor: run.scheduledFor ? isoMs(run.scheduledFor) : null,
      catchUp: run.catchUp,
      startedAt,
      attempts: 1,
      maxRetries: config.maxRetries,
      timeoutSeconds: config.timeoutSeconds,
      deadlineAt: startedAt + config.timeoutSeconds * 1000,
      retryAt: null,
      admitAt: run.seq === null ? startedAt + ADMIT_AFTER_MS : null,
    };
    this.ctx.storage.kv.put(entry.key, entry);
    this.launch(entry);
    return entry;
  }

  /**
   * Writes a scheduled run still going to D1 as running, so that it has a
   * run_id and shows in the API. Returns the entry with its run_id.
   */
  async admit(entry: RunningEntry): Promise<RunningEntry> {
    if (entry.seq !== null || entry.scheduledFor === null) return entry;
    const { seq } = await admitScheduledRun(this.db, this.scheduled(entry));
    const current = this.ctx.storage.kv.get<RunningEntry>(entry.key);
    if (!current) return entry; // finished meanwhile; its record is final
    const admitted = { ...current, seq, runId: seq === null ? null : formatRunId(seq), admitAt: null };
    this.ctx.storage.kv.put(entry.key, admitted);
    return admitted;
  }

  /** Admits the scheduled runs that have been going for ADMIT_AFTER_MS. */
  async admitDue(now: Date, entries = this.list()): Promise<void> {
    for (const entry of entries) {
      if (entry.admitAt !== null && entry.admitAt <= now.getTime()) await this.admit(entry);
    }
  }

  /** Starts the attempts whose backoff has passed. */
  resumeDueRetries(now: Date, entries = this.list()): void {
    for (const entry of entries) {
      if (entry.retryAt === null || entry.retryAt > now.getTime()) continue;
      const next: RunningEntry = {
        ...entry,
        attempts: entry.attempts + 1,
        retryAt: null,
        deadlineAt: now.getTime() + entry.timeoutSeconds * 1000,
      };
      this.ctx.storage.kv.put(next.key, next);
      this.launch(next, true);
    }
  }

  /** Closes as failed every run whose attempt outlived its timeout (its object died, or it hung). */
  async reapExpired(now: Date, entries = this.list()): Promise<void> {
    for (const entry of entries) {
      if (entry.deadlineAt === null || entry.deadlineAt > now.getTime()) continue;
      this.ctx.storage.kv.delete(entry.key);
      const error =
        `timed out: attempt ${entry.attempts} did not complete within timeout_seconds=${entry.timeoutSeconds} ` +
        `(the handler hung, or the job's Durable Object was restarted mid-run)`;
      await this.record(entry, now, { status: "failed", summary: null, error });
    }
  }

  /**
   * Starts an attempt in the next macrotask rather than in the alarm's own
   * turn. The run is already claimed in storage (started_at is that moment);
   * deferring the handler lets every other object due at the same instant
   * claim its run first, so one job's handler (and its D1 writes) never
   * delays another job's start. It reorders work; it removes none.
   */
  private launch(entry: RunningEntry, isRetry = false): void {
    this.ctx.waitUntil(
      clock
        .sleep(0)
        .then(() => {
          if (!isRetry) {
            logEvent("run.start", {
              job_name: entry.jobName,
              run_id: entry.runId,
              status: "running",
              triggered_by: entry.triggeredBy,
              dry_run: entry.dryRun,
              scheduled_for: entry.scheduledFor,
              started_at: isoMs(entry.startedAt),
            });
          }
          return this.attempt(entry, isRetry);
        })
        .catch((error) => logEvent("run.error", { job_name: entry.jobName, run_id: entry.runId, error: String(error) }, "error")),
    );
  }

  private async attempt(entry: RunningEntry, isRetry: boolean): Promise<void> {
    if (isRetry && entry.seq !== null) await setAttempts(this.db, entry.seq, entry.attempts);
    const outcome = await this.runHandler(entry);
    const now = clock.now();
    const current = this.ctx.storage.kv.get<RunningEntry>(entry.key);
    // Reaped as timed out meanwhile, or superseded by another attempt: its outcome stands.
    if (!current || current.attempts !== entry.attempts || current.retryAt !== null) return;

    if (outcome.status === "failed" && entry.attempts <= entry.maxRetries) {
      const retryAt = now.getTime() + retryDelayMs(entry.attempts);
      this.ctx.storage.kv.put(entry.key, { ...current, deadlineAt: null, retryAt });
      logEvent("run.retry", { job_name: entry.jobName, run_id: current.runId, attempts: entry.attempts, error: outcome.error, retry_at: isoMs(retryAt) }, "warn");
      await this.rearm();
      return;
    }
    await this.record(current, now, outcome);
    this.ctx.storage.kv.delete(entry.key);
    await this.rearm();
    // issue 12 (delivery): the run's committed outbox rows go to the queue (same runId as the handler got). The lead re-applies this line at merge.
    if (outcome.status === "success" && !entry.dryRun) await enqueueRunNotifications(workerEnv as Env, this.db, { jobName: entry.jobName, runId: entry.runId ?? `${entry.jobName}@${entry.scheduledFor}` });
  }

  private async runHandler(entry: RunningEntry): Promise<Outcome> {
    try {
      const handler = getHandler(entry.handler);
      if (!handler) throw new Error(`handler "${entry.handler}" is not registered in this deployment`);
      const summary = await handler({
        db: this.db,
        now: clock.now(),
        dryRun: entry.dryRun,
        runId: entry.runId ?? `${entry.jobName}@${entry.scheduledFor}`,
        jobName: entry.jobName,
      });
      return { status: "success", summary, error: null };
    } catch (thrown) {
      return { status: "failed", summary: null, error: thrown instanceof Error ? thrown.message : String(thrown) };
    }
  }

  private scheduled(entry: RunningEntry): ScheduledRun {
    return {
      jobId: entry.jobId,
      jobName: entry.jobName,
      scheduledFor: entry.scheduledFor!,
      catchUp: entry.catchUp,
      startedAt: isoMs(entry.startedAt),
      attempts: entry.attempts,
      nextRunAt: this.nextRunAt(),
    };
  }

  /**
   * A record can end outside the object's lock, so a change of schedule (PATCH:
   * this object first, then D1) can land between the record's read of the next
   * instant and its D1 write, which would put the older next_run_at back over
   * the change's. Read again after the write; if the object's next instant
   * moved, put it in D1, over the record's own value only. Costs a D1 call
   * only when the schedule changed during the record.
   */
  private async keepNextRunAt(jobId: number, written: string | null): Promise<void> {
    const current = this.nextRunAt();
    if (current !== written) await replaceNextRunAt(this.db, jobId, written, current);
  }

  /** The run's final record: one batch for a scheduled run, an update for an admitted manual one. */
  private async record(entry: RunningEntry, now: Date, outcome: Outcome): Promise<void> {
    const durationMs = now.getTime() - entry.startedAt;
    const final = { completedAt: isoMs(now), durationMs, resultSummary: outcome.summary, error: outcome.error };
    let runId = entry.runId;
    let recorded: boolean;
    if (entry.scheduledFor !== null) {
      const run = this.scheduled(entry);
      const result = await recordScheduledRun(this.db, run, { status: outcome.status, ...final });
      recorded = result.seq !== null;
      runId = result.seq === null ? runId : formatRunId(result.seq);
      if (!result.jobActive) this.onStale(entry.jobId);
      else await this.keepNextRunAt(entry.jobId, run.nextRunAt);
    } else {
      recorded = await finishRun(this.db, { seq: entry.seq!, jobId: entry.jobId, status: outcome.status, attempts: entry.attempts, ...final });
    }
    logEvent(
      "run.end",
      {
        job_name: entry.jobName,
        run_id: runId,
        status: outcome.status,
        duration_ms: durationMs,
        triggered_by: entry.triggeredBy,
        dry_run: entry.dryRun,
        attempts: entry.attempts,
        scheduled_for: entry.scheduledFor,
        summary: outcome.summary,
        error: outcome.error,
        recorded,
      },
      outcome.status === "failed" ? "warn" : "info",
    );
  }
}
