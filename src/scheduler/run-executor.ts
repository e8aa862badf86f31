import type { Db } from "../db/client";
import { getHandler } from "../handlers";
import { clock } from "../lib/clock";
import { formatRunId, isoMs } from "../lib/ids";
import { logEvent } from "../lib/log";
import { finishRun, setAttempts } from "../repositories/runs-repo";
import { retryDelayMs, type JobConfig } from "./job-config";

/** A run in progress, as stored in its job's object (it survives a restart). */
export interface RunningEntry {
  seq: number;
  runId: string;
  jobId: number;
  jobName: string;
  handler: string;
  dryRun: boolean;
  triggeredBy: string;
  scheduledFor: string | null;
  startedAt: number;
  attempts: number;
  maxRetries: number;
  timeoutSeconds: number;
  /** When the current attempt is given up on; null while waiting for a retry. */
  deadlineAt: number | null;
  /** When the next attempt starts; null while an attempt is going. */
  retryAt: number | null;
}

export interface StartRun {
  seq: number;
  startedAt: Date;
  scheduledFor: Date | null;
  triggeredBy: string;
  dryRun: boolean;
}

const PREFIX = "run:";
const key = (seq: number) => `${PREFIX}${String(seq).padStart(12, "0")}`;

/**
 * Executes the runs of one job object: attempts, retries with backoff, the
 * timeout of a run whose object died, and the final record in D1. Retries and
 * timeouts are driven by the object's alarm, so they survive a restart.
 */
export class RunExecutor {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly db: Db,
    private readonly rearm: () => Promise<void>,
  ) {}

  list(): RunningEntry[] {
    return [...this.ctx.storage.kv.list<RunningEntry>({ prefix: PREFIX })].map(([, entry]) => entry);
  }

  /** The instants this executor needs the alarm for. */
  wakeTimes(): number[] {
    return this.list().flatMap((entry) => [entry.deadlineAt, entry.retryAt].filter((t): t is number => t !== null));
  }

  /** Records the run as in progress and starts its first attempt (not awaited). */
  start(config: JobConfig, run: StartRun): void {
    const startedAt = run.startedAt.getTime();
    const entry: RunningEntry = {
      seq: run.seq,
      runId: formatRunId(run.seq),
      jobId: config.jobId,
      jobName: config.jobName,
      handler: config.handler,
      dryRun: run.dryRun,
      triggeredBy: run.triggeredBy,
      scheduledFor: run.scheduledFor ? isoMs(run.scheduledFor) : null,
      startedAt,
      attempts: 1,
      maxRetries: config.maxRetries,
      timeoutSeconds: config.timeoutSeconds,
      deadlineAt: startedAt + config.timeoutSeconds * 1000,
      retryAt: null,
    };
    this.ctx.storage.kv.put(key(entry.seq), entry);
    logEvent("run.start", {
      job_name: entry.jobName,
      run_id: entry.runId,
      status: "running",
      triggered_by: entry.triggeredBy,
      dry_run: entry.dryRun,
      scheduled_for: entry.scheduledFor,
    });
    this.launch(entry);
  }

  /** Starts the attempts whose backoff has passed. */
  resumeDueRetries(now: Date): void {
    for (const entry of this.list()) {
      if (entry.retryAt === null || entry.retryAt > now.getTime()) continue;
      const next: RunningEntry = {
        ...entry,
        attempts: entry.attempts + 1,
        retryAt: null,
        deadlineAt: now.getTime() + entry.timeoutSeconds * 1000,
      };
      this.ctx.storage.kv.put(key(next.seq), next);
      this.launch(next, true);
    }
  }

  /** Closes as failed every run whose attempt outlived its timeout (its object died, or it hung). */
  async reapExpired(now: Date): Promise<void> {
    for (const entry of this.list()) {
      if (entry.deadlineAt === null || entry.deadlineAt > now.getTime()) continue;
      this.ctx.storage.kv.delete(key(entry.seq));
      const error =
        `timed out: attempt ${entry.attempts} did not complete within timeout_seconds=${entry.timeoutSeconds} ` +
        `(the handler hung, or the job's Durable Object was restarted mid-run)`;
      await this.close(entry, now, "failed", null, error);
    }
  }

  private launch(entry: RunningEntry, isRetry = false): void {
    this.ctx.waitUntil(
      this.attempt(entry, isRetry).catch((error) =>
        logEvent("run.error", { job_name: entry.jobName, run_id: entry.runId, error: String(error) }, "error"),
      ),
    );
  }

  private async attempt(entry: RunningEntry, isRetry: boolean): Promise<void> {
    if (isRetry) await setAttempts(this.db, entry.seq, entry.attempts);
    let summary: Record<string, number> | null = null;
    let error: string | null = null;
    try {
      const handler = getHandler(entry.handler);
      if (!handler) throw new Error(`handler "${entry.handler}" is not registered in this deployment`);
      summary = await handler({
        db: this.db,
        now: clock.now(),
        dryRun: entry.dryRun,
        runId: entry.runId,
        jobName: entry.jobName,
      });
    } catch (thrown) {
      error = thrown instanceof Error ? thrown.message : String(thrown);
    }
    const now = clock.now();
    const current = this.ctx.storage.kv.get<RunningEntry>(key(entry.seq));
    // Reaped as timed out meanwhile, or superseded by another attempt: its outcome stands.
    if (!current || current.attempts !== entry.attempts || current.retryAt !== null) return;

    if (error !== null && entry.attempts <= entry.maxRetries) {
      const retryAt = now.getTime() + retryDelayMs(entry.attempts);
      this.ctx.storage.kv.put(key(entry.seq), { ...current, deadlineAt: null, retryAt });
      logEvent("run.retry", { job_name: entry.jobName, run_id: entry.runId, attempts: entry.attempts, error, retry_at: isoMs(retryAt) }, "warn");
      await this.rearm();
      return;
    }
    await this.close(entry, now, error === null ? "success" : "failed", summary, error);
    this.ctx.storage.kv.delete(key(entry.seq));
    await this.rearm();
  }

  private async close(
    entry: RunningEntry,
    now: Date,
    status: "success" | "failed",
    summary: Record<string, number> | null,
    error: string | null,
  ): Promise<void> {
    const durationMs = now.getTime() - entry.startedAt;
    const closed = await finishRun(this.db, {
      seq: entry.seq,
      jobId: entry.jobId,
      status,
      attempts: entry.attempts,
      completedAt: isoMs(now),
      durationMs,
      resultSummary: summary,
      error,
    });
    logEvent(
      "run.end",
      {
        job_name: entry.jobName,
        run_id: entry.runId,
        status,
        duration_ms: durationMs,
        triggered_by: entry.triggeredBy,
        dry_run: entry.dryRun,
        attempts: entry.attempts,
        summary,
        error,
        recorded: closed,
      },
      status === "failed" ? "warn" : "info",
    );
  }
}
