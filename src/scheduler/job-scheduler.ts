import { DurableObject } from "cloudflare:workers";
import { nextRunAfter } from "../cron/schedule";
import { createDb, type Db } from "../db/client";
import type { Env } from "../env";
import { clock } from "../lib/clock";
import { formatRunId, isoMs } from "../lib/ids";
import { logEvent } from "../lib/log";
import { setNextRunAt } from "../repositories/jobs-repo";
import { admitManualRun, recordSkippedRun, type AdmitManual } from "../repositories/runs-repo";
import { fireLeadMs, ON_TIME_GRACE_MS, planDue } from "./due-plan";
import { sameSchedule, type JobConfig } from "./job-config";
import { RunExecutor, type RunningEntry } from "./run-executor";

export type TriggerOutcome =
  | { accepted: true; runId: string; triggeredAt: string }
  | { accepted: false; reason: "overlap"; runningRunId: string }
  | { accepted: false; reason: "gone" };

export interface SchedulerState {
  config: JobConfig | null;
  nextRunAt: string | null;
  alarmAt: string | null;
  running: RunningEntry[];
}

const CONFIG = "config";
const NEXT = "next";
/** The latest scheduled instant this object has started a run for. */
const LAST_INSTANT = "last_instant";

/**
 * One object per job (addressed by job name). It owns the job's timing: the
 * stored next fire time, the alarm, and the runs in progress. Every decision
 * is made from stored state, never from memory, so a restart changes nothing.
 */
export class JobScheduler extends DurableObject<Env> {
  private readonly db: Db;
  private readonly runs: RunExecutor;
  /** How long before the next instant the alarm wakes this object (FIRE_LEAD_MS). */
  private readonly leadMs: number;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = createDb(env.DB);
    this.leadMs = fireLeadMs(env.FIRE_LEAD_MS);
    this.runs = new RunExecutor(
      ctx,
      this.db,
      () => this.rearm(),
      () => (this.next === null ? null : isoMs(this.next)),
      (jobId) => this.disarmStale(jobId),
    );
  }

  /**
   * Admission (overlap check, run insert, next fire time) is serialised: a D1
   * await would otherwise let a second trigger in between check and insert.
   * Runs themselves execute outside the lock.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.lock.then(fn);
    this.lock = result.catch(() => undefined);
    return result;
  }

  private get config(): JobConfig | null {
    return this.ctx.storage.kv.get<JobConfig>(CONFIG) ?? null;
  }

  private get next(): number | null {
    return this.ctx.storage.kv.get<number>(NEXT) ?? null;
  }

  /** Stores the job's config; a new registration of the name starts its instants afresh. */
  private store(config: JobConfig): void {
    if (this.config?.jobId !== config.jobId) this.ctx.storage.kv.delete(LAST_INSTANT);
    this.ctx.storage.kv.put(CONFIG, config);
  }

  private setNext(next: Date | null): void {
    this.ctx.storage.kv.put(NEXT, next ? next.getTime() : null);
  }

  /** Stores the job's schedule and arms the alarm for `nextRunAt` (null: not scheduled). */
  configure(config: JobConfig, nextRunAt: string | null): Promise<void> {
    return this.exclusive(async () => {
      this.store(config);
      this.setNext(config.isActive && nextRunAt ? new Date(nextRunAt) : null);
      await this.rearm();
    });
  }

  /** Forgets the job (deregistered). Runs in progress finish and are recorded; nothing re-arms it. */
  remove(): Promise<void> {
    return this.exclusive(async () => {
      this.ctx.storage.kv.delete(CONFIG);
      this.ctx.storage.kv.delete(NEXT);
      await this.rearm();
    });
  }

  /** A manual run, now, through the same admission and execution as a scheduled one. */
  trigger(config: JobConfig, request: { triggeredBy: string; dryRun: boolean }, audit: AdmitManual["audit"]): Promise<TriggerOutcome> {
    return this.exclusive(async () => {
      const now = clock.now();
      await this.runs.reapExpired(now);
      const running = this.runs.list();
      if (config.overlapPolicy === "skip" && running.length > 0) {
        // A scheduled run is written to D1 late (see ADMIT_AFTER_MS); write it now so it has a run_id to name.
        const { runId, scheduledFor } = await this.runs.admit(running[0]!);
        return { accepted: false, reason: "overlap", runningRunId: runId ?? `the run scheduled for ${scheduledFor}` } as const;
      }
      const startedAt = isoMs(now);
      const seq = await admitManualRun(this.db, {
        jobId: config.jobId,
        jobName: config.jobName,
        triggeredBy: request.triggeredBy,
        dryRun: request.dryRun,
        startedAt,
        audit,
      });
      if (seq === null) return { accepted: false, reason: "gone" } as const;
      this.runs.start(config, { seq, startedAt: now, scheduledFor: null, catchUp: false, ...request });
      await this.rearm();
      return { accepted: true, runId: formatRunId(seq), triggeredAt: startedAt } as const;
    });
  }

  override async alarm(): Promise<void> {
    await this.awaitInstant(clock.now());
    return this.exclusive(() => this.onAlarm(clock.now()));
  }

  /**
   * The alarm for the next instant is set `leadMs` early, so the object is
   * loaded by the time the instant comes. It waits out the rest here, outside
   * the lock (a trigger or a change meanwhile is not held up), and then decides
   * from stored state as any alarm does: a job paused or rescheduled during the
   * wait does not run. Never when something else is due now (a retry, a deadline).
   */
  private async awaitInstant(now: Date): Promise<void> {
    const next = this.next;
    if (next === null || !this.config?.isActive) return;
    const wait = next - now.getTime();
    if (wait <= 0 || wait > this.leadMs) return;
    if (this.runs.wakeTimes().some((t) => t <= now.getTime())) return;
    await clock.sleep(wait);
  }

  private async onAlarm(now: Date): Promise<void> {
    // One read of the runs in progress; they are scanned again only when there are some.
    let running = this.runs.list();
    if (running.length > 0) {
      await this.runs.reapExpired(now, running);
      this.runs.resumeDueRetries(now, this.runs.list());
      await this.runs.admitDue(now, this.runs.list());
      running = this.runs.list();
    }
    const config = this.config;
    const next = this.next;
    if (config?.isActive && next !== null && next <= now.getTime()) {
      await this.fire(config, new Date(next), now, running);
    }
    await this.rearm();
  }

  /**
   * The stored next instant has come: run it, catch up, or skip it, by policy.
   * A run starts without a D1 round trip: the object's own storage records the
   * instant (exactly once: `last_instant` and `next` move in the same
   * synchronous step), and the run is written to D1 once, when it ends.
   */
  private async fire(config: JobConfig, due: Date, now: Date, running: RunningEntry[]): Promise<void> {
    const plan = planDue(config, due, now);
    const nextRunAt = plan.next ? isoMs(plan.next) : null;
    const lastInstant = this.ctx.storage.kv.get<number>(LAST_INSTANT) ?? Number.NEGATIVE_INFINITY;
    if (plan.run && plan.run.scheduledFor.getTime() <= lastInstant) {
      // This instant already has its run (a repeated alarm): never run it twice.
      this.setNext(plan.next);
    } else if (plan.run && config.overlapPolicy === "skip" && running.length > 0) {
      const reason = `previous run ${running[0]!.runId ?? `(scheduled for ${running[0]!.scheduledFor})`} was still running (overlap_policy is "skip")`;
      const { jobActive } = await this.skip(config, plan.run.scheduledFor, now, reason, nextRunAt);
      this.setNext(plan.next);
      if (!jobActive) this.disarmStale(config.jobId);
    } else if (plan.run) {
      this.ctx.storage.kv.put(LAST_INSTANT, plan.run.scheduledFor.getTime());
      this.setNext(plan.next);
      this.runs.start(config, {
        seq: null,
        startedAt: now,
        scheduledFor: plan.run.scheduledFor,
        catchUp: plan.run.catchUp,
        triggeredBy: "scheduler",
        dryRun: false,
      });
      if (plan.missed > 0) {
        logEvent("job.misfire", { job_name: config.jobName, missed: plan.missed, catch_up: plan.run.catchUp });
      }
    } else if (plan.skipped) {
      const { jobActive } = await this.skip(config, plan.skipped.scheduledFor, now, plan.skipped.reason, nextRunAt);
      this.setNext(plan.next);
      if (!jobActive) this.disarmStale(config.jobId);
    } else {
      this.setNext(plan.next);
      await setNextRunAt(this.db, config.jobId, nextRunAt);
    }
  }

  /** D1 no longer has this registration active: the schedule here is stale. */
  private disarmStale(jobId: number): void {
    const config = this.config;
    if (!config?.isActive || config.jobId !== jobId) return;
    logEvent("job.repair", { job_name: config.jobName, repairs: ["disarmed: job is deleted or paused in D1"] }, "warn");
    this.ctx.storage.kv.delete(CONFIG);
    this.setNext(null);
  }

  private skip(config: JobConfig, scheduledFor: Date, now: Date, reason: string, nextRunAt: string | null) {
    logEvent("run.skipped", { job_name: config.jobName, scheduled_for: isoMs(scheduledFor), reason });
    return recordSkippedRun(this.db, {
      jobId: config.jobId,
      jobName: config.jobName,
      scheduledFor: isoMs(scheduledFor),
      at: isoMs(now),
      reason,
      nextRunAt,
    });
  }

  /** The alarm is the earliest of: the next instant (less the lead), a run's deadline, a retry, a late admission. */
  // Computed and set in one synchronous step: storage calls are applied in the
  // order they are made, so a concurrent rearm can never leave a stale alarm.
  private rearm(): Promise<void> {
    const config = this.config;
    const times = this.runs.wakeTimes();
    const next = this.next;
    if (config?.isActive && next !== null) times.push(next - this.leadMs);
    return times.length === 0 ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(Math.min(...times));
  }

  /** What this object holds, for the supervisor, health checks and tests. */
  async inspect(): Promise<SchedulerState> {
    const alarm = await this.ctx.storage.getAlarm();
    const next = this.next;
    return {
      config: this.config,
      nextRunAt: next === null ? null : isoMs(next),
      alarmAt: alarm === null ? null : isoMs(alarm),
      running: this.runs.list(),
    };
  }

  /**
   * Makes this object agree with D1: `desired` is the job as D1 has it (null if
   * deleted or paused there), `recordedNext` its next_run_at in D1. Returns what
   * was repaired, for the supervisor's log.
   */
  repair(desired: JobConfig | null, recordedNext: string | null): Promise<string[]> {
    return this.exclusive(async () => {
      const now = clock.now();
      const repairs: string[] = [];
      const current = this.config;
      if (!desired) {
        if (current?.isActive || this.next !== null) {
          this.ctx.storage.kv.delete(CONFIG);
          this.setNext(null);
          repairs.push("disarmed: job is deleted or paused in D1");
        }
        await this.rearm();
        return repairs;
      }
      if (!current || !sameSchedule(current, desired) || this.next === null) {
        this.store(desired);
        this.setNext(nextRunAfter(desired.cronExpression, desired.timezone, now));
        repairs.push(current ? "rescheduled: schedule differed from D1" : "armed: job had no schedule");
      }
      const next = this.next!;
      const alarm = await this.ctx.storage.getAlarm();
      if (next < now.getTime() - ON_TIME_GRACE_MS) {
        // Overdue (an alarm that never fired): fire now; the alarm applies the misfire policy.
        await this.ctx.storage.setAlarm(now.getTime());
        repairs.push("re-armed: next run was overdue");
        return repairs;
      }
      if (repairs.length === 0 && (alarm === null || alarm > next)) repairs.push("re-armed: alarm was missing");
      if (recordedNext === null || Date.parse(recordedNext) !== next) {
        await setNextRunAt(this.db, desired.jobId, isoMs(next));
        if (repairs.length === 0) repairs.push("synced next_run_at to D1");
      }
      await this.rearm();
      return repairs;
    });
  }
}
