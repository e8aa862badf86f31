import { DurableObject } from "cloudflare:workers";
import { nextRunAfter } from "../cron/schedule";
import { createDb, type Db } from "../db/client";
import type { Env } from "../env";
import { clock } from "../lib/clock";
import { formatRunId, isoMs } from "../lib/ids";
import { logEvent } from "../lib/log";
import { setNextRunAt } from "../repositories/jobs-repo";
import { admitManualRun, recordSkippedRun, type AdmitManual } from "../repositories/runs-repo";
import { fireLeadMs, ON_TIME_GRACE_MS, planDue, upcomingAt } from "./due-plan";
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

/**
 * What the object stores about its job, under one key: an alarm reads it once
 * and writes it once (each storage call costs tens of microseconds, and many
 * objects can be due at the same instant).
 */
export interface Schedule {
  config: JobConfig | null;
  /** The next instant (ms since the epoch); null when the job is not scheduled. */
  next: number | null;
  /** The latest scheduled instant this registration has started a run for. */
  lastInstant: number | null;
}

/** planDue's croner call, made while the object waited for the instant, and what it was made for. */
interface PlannedAhead {
  next: number;
  cronExpression: string;
  timezone: string;
  upcoming: Date[];
}

const SCHEDULE = "schedule";
const UNSCHEDULED: Schedule = { config: null, next: null, lastInstant: null };

/**
 * One object per job (addressed by job name). It owns the job's timing: the
 * stored next fire time, the alarm, and the runs in progress. Every decision
 * is made from stored state (the schedule through a write-through copy), never
 * from anything only memory holds, so a restart changes nothing.
 */
export class JobScheduler extends DurableObject<Env> {
  private readonly db: Db;
  private readonly runs: RunExecutor;
  /** How long before the next instant the alarm wakes this object (FIRE_LEAD_MS). */
  private readonly leadMs: number;
  private lock: Promise<unknown> = Promise.resolve();
  /** What storage holds under `schedule`, once read (see `schedule`). */
  private stored: Schedule | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = createDb(env.DB);
    this.leadMs = fireLeadMs(env.FIRE_LEAD_MS);
    this.runs = new RunExecutor(
      ctx,
      this.db,
      () => this.rearm(),
      () => {
        const { next } = this.schedule;
        return next === null ? null : isoMs(next);
      },
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

  /**
   * The stored schedule, read from storage once per instance: this object is
   * its only writer, and `save` writes through, so the copy is always what
   * storage holds (a restart reads it again). Saves a storage read (35-70 µs)
   * each of the five times a scheduled run consults it.
   */
  private get schedule(): Schedule {
    return (this.stored ??= this.ctx.storage.kv.get<Schedule>(SCHEDULE) ?? this.scheduleOfEarlierBuild());
  }

  /** Objects armed by a build before the single key kept these three keys; read once, then superseded by the first save. */
  private scheduleOfEarlierBuild(): Schedule {
    const kv = this.ctx.storage.kv;
    const config = kv.get<JobConfig>("config") ?? null;
    if (config === null) return UNSCHEDULED;
    return { config, next: kv.get<number | null>("next") ?? null, lastInstant: kv.get<number>("last_instant") ?? null };
  }

  private save(schedule: Schedule): Schedule {
    this.ctx.storage.kv.put(SCHEDULE, schedule);
    this.stored = schedule;
    return schedule;
  }

  /** `current` with the job's config and next instant; a new registration of the name starts its instants afresh. */
  private static scheduled(current: Schedule, config: JobConfig, next: Date | null): Schedule {
    const lastInstant = current.config?.jobId === config.jobId ? current.lastInstant : null;
    return { config, next: next === null ? null : next.getTime(), lastInstant };
  }

  /** Stores the job's schedule and arms the alarm for `nextRunAt` (null: not scheduled). */
  configure(config: JobConfig, nextRunAt: string | null): Promise<void> {
    return this.exclusive(async () => {
      const next = config.isActive && nextRunAt ? new Date(nextRunAt) : null;
      await this.rearm(this.save(JobScheduler.scheduled(this.schedule, config, next)));
    });
  }

  /** Forgets the job (deregistered). Runs in progress finish and are recorded; nothing re-arms it. */
  remove(): Promise<void> {
    return this.exclusive(async () => {
      await this.rearm(this.save(UNSCHEDULED));
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
    const ahead = await this.awaitInstant(clock.now());
    return this.exclusive(() => this.onAlarm(clock.now(), ahead));
  }

  /**
   * The alarm for the next instant is set `leadMs` early, so the object is
   * loaded by the time the instant comes. It waits out the rest here, outside
   * the lock (a trigger or a change meanwhile is not held up), and then decides
   * from stored state as any alarm does: a job paused or rescheduled during the
   * wait does not run. Never when something else is due now (a retry, a deadline).
   * The wait is also the time to make planDue's croner call, off the instant's path.
   */
  private async awaitInstant(now: Date): Promise<PlannedAhead | undefined> {
    const { config, next } = this.schedule;
    if (next === null || !config?.isActive) return undefined;
    const wait = next - now.getTime();
    if (wait <= 0 || wait > this.leadMs) return undefined;
    if (this.runs.wakeTimes().some((t) => t <= now.getTime())) return undefined;
    const ahead = { next, cronExpression: config.cronExpression, timezone: config.timezone, upcoming: upcomingAt(config, next) };
    await clock.sleep(wait);
    return ahead;
  }

  private async onAlarm(now: Date, ahead?: PlannedAhead): Promise<void> {
    // One read of the runs in progress; they are scanned again only when there are some.
    let running = this.runs.list();
    if (running.length > 0) {
      await this.runs.reapExpired(now, running);
      this.runs.resumeDueRetries(now, this.runs.list());
      await this.runs.admitDue(now, this.runs.list());
      running = this.runs.list();
    }
    let schedule = this.schedule;
    const { config, next } = schedule;
    if (config?.isActive && next !== null && next <= now.getTime()) {
      // What was planned ahead holds only if the schedule did not change during the wait.
      const upcoming =
        ahead && ahead.next === next && ahead.cronExpression === config.cronExpression && ahead.timezone === config.timezone
          ? ahead.upcoming
          : undefined;
      const fired = await this.fire(schedule, config, new Date(next), now, running, upcoming);
      schedule = fired.schedule;
      running = fired.running ?? this.runs.list();
    }
    await this.rearm(schedule, running);
  }

  /**
   * The stored next instant has come: run it, catch up, or skip it, by policy.
   * A run starts without a D1 round trip: the object's own storage records the
   * instant (exactly once: `lastInstant` and `next` move in the same
   * write), and the run is written to D1 once, when it ends. Returns the
   * schedule as stored afterwards, and the runs in progress when it knows
   * them without a read (it made no await: nothing can have changed them).
   */
  private async fire(
    schedule: Schedule,
    config: JobConfig,
    due: Date,
    now: Date,
    running: RunningEntry[],
    upcoming?: Date[],
  ): Promise<{ schedule: Schedule; running?: RunningEntry[] }> {
    const plan = planDue(config, due, now, upcoming);
    const nextRunAt = plan.next ? isoMs(plan.next) : null;
    const moved: Schedule = { ...schedule, next: plan.next ? plan.next.getTime() : null };
    if (plan.run && plan.run.scheduledFor.getTime() <= (schedule.lastInstant ?? Number.NEGATIVE_INFINITY)) {
      // This instant already has its run (a repeated alarm): never run it twice.
      return { schedule: this.save(moved), running };
    }
    if (plan.run && config.overlapPolicy === "skip" && running.length > 0) {
      const reason = `previous run ${running[0]!.runId ?? `(scheduled for ${running[0]!.scheduledFor})`} was still running (overlap_policy is "skip")`;
      const { jobActive } = await this.skip(config, plan.run.scheduledFor, now, reason, nextRunAt);
      this.save(moved);
      return { schedule: jobActive ? moved : this.disarmStale(config.jobId) };
    }
    if (plan.run) {
      const claimed = this.save({ ...moved, lastInstant: plan.run.scheduledFor.getTime() });
      const started = this.runs.start(config, {
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
      return { schedule: claimed, running: [...running, started] };
    }
    if (plan.skipped) {
      const { jobActive } = await this.skip(config, plan.skipped.scheduledFor, now, plan.skipped.reason, nextRunAt);
      this.save(moved);
      return { schedule: jobActive ? moved : this.disarmStale(config.jobId) };
    }
    this.save(moved);
    await setNextRunAt(this.db, config.jobId, nextRunAt);
    return { schedule: moved };
  }

  /** D1 no longer has this registration active: the schedule here is stale. Returns the schedule as stored. */
  private disarmStale(jobId: number): Schedule {
    const current = this.schedule;
    const config = current.config;
    if (!config?.isActive || config.jobId !== jobId) return current;
    logEvent("job.repair", { job_name: config.jobName, repairs: ["disarmed: job is deleted or paused in D1"] }, "warn");
    return this.save(UNSCHEDULED);
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
  private rearm(schedule: Schedule = this.schedule, running?: RunningEntry[]): Promise<void> {
    const { config, next } = schedule;
    const times = this.runs.wakeTimes(running);
    if (config?.isActive && next !== null) times.push(next - this.leadMs);
    return times.length === 0 ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(Math.min(...times));
  }

  /** What this object holds, for the supervisor, health checks and tests. */
  async inspect(): Promise<SchedulerState> {
    const alarm = await this.ctx.storage.getAlarm();
    const { config, next } = this.schedule;
    return {
      config,
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
      let schedule = this.schedule;
      const current = schedule.config;
      if (!desired) {
        if (current?.isActive || schedule.next !== null) {
          schedule = this.save(UNSCHEDULED);
          repairs.push("disarmed: job is deleted or paused in D1");
        }
        await this.rearm(schedule);
        return repairs;
      }
      if (!current || !sameSchedule(current, desired) || schedule.next === null) {
        schedule = this.save(JobScheduler.scheduled(schedule, desired, nextRunAfter(desired.cronExpression, desired.timezone, now)));
        repairs.push(current ? "rescheduled: schedule differed from D1" : "armed: job had no schedule");
      }
      const next = schedule.next!;
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
      await this.rearm(schedule);
      return repairs;
    });
  }
}
