import { DurableObject } from "cloudflare:workers";
import { nextRunAfter } from "../cron/schedule";
import { createDb, type Db } from "../db/client";
import type { JobRow } from "../db/schema";
import type { Env } from "../env";
import { BUILT_IN_HANDLERS, type HandlerRegistry } from "../handlers";
import { clock } from "../lib/clock";
import { ApiError, jobNotFound } from "../lib/errors";
import { isoMs } from "../lib/instants";
import { logEvent } from "../lib/log";
import { runDataPoint } from "../lib/run-metrics";
import * as present from "../presenters";
import { auditEntry } from "../repositories/audit-repo";
import { deleteJob, findJob, insertJob, setNextRunAt, updateJob } from "../repositories/jobs-repo";
import { alertWrites, applyAlertWrites, type AlertWrites } from "../repositories/alerts-repo";
import { admitRun, lastRunNo, recordedNow, recordRun, recordSkipped, setAttempts, skippedNow, type JobPosition } from "../repositories/runs-repo";
import type { CreateJobInput, PatchJobInput } from "../routes/schemas";
import type { Actor } from "../services/actor";
import { EMPTY_JOB_STATE, expiredRuns, JOB_STATE_KEY, planAlarm, runWakeTimes, wakeAt, type InstantPlan, type JobState } from "./alarm-plan";
import { ON_TIME_GRACE_MS } from "./due-plan";
import { fireLeadMs } from "./fire-lead";
import { enqueueIds, enqueueRunNotifications } from "../delivery/enqueue";
import { planPassedOver, planRunAlerts, planSkipAlerts } from "./alert-rules";
import { newJob, patchChanges, requireMatch, type IfMatch } from "./job-changes";
import { configFromRow, retryDelayMs, sameConfig, sameTiming, type JobConfig } from "./job-config";
import { executeStep, newRun, RUN_KEY_PREFIX, runStart, type AttemptOutcome, type RunningEntry, type StepOutcome } from "./run-executor";

/** A refusal as it crosses the RPC boundary (an ApiError's fields; the class itself does not). */
export interface Refusal {
  status: ApiError["status"];
  code: string;
  message: string;
  details?: unknown;
  headers?: Record<string, string>;
}
export type Answer<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export interface SchedulerState {
  config: JobConfig | null;
  nextRunAt: string | null;
  alarmAt: string | null;
  running: RunningEntry[];
  retired: number[];
}

/** Tombstones kept per name: enough for any realistic churn of re-registrations. */
const RETIRED_KEPT = 16;
/** Tries of a change whose job moved on between the owner's read and its write (only a write from outside the owner does that). */
const WRITE_TRIES = 3;

/**
 * One object per job (addressed by job name): the job's one owner. Every
 * change to the job (register, update, pause and resume, delete, trigger,
 * repair) is decided here, one at a time, from a fresh read of D1; the
 * object then schedules by what it wrote. It owns the job's timing: the
 * stored next instant, the alarm, the run numbers, and the runs in progress.
 * Every decision comes from what it has stored (kept in memory once read, as
 * the object is its storage's only writer), so a restart changes nothing.
 */
export class JobScheduler extends DurableObject<Env> {
  protected readonly db: Db;
  /** The handlers its jobs can name (the test and benchmark Workers' subclasses add their own). */
  protected readonly handlers: HandlerRegistry = BUILT_IN_HANDLERS;
  /** How long before the next instant the alarm wakes this object (FIRE_LEAD_MS). */
  private readonly leadMs: number;
  private lock: Promise<unknown> = Promise.resolve();
  /** This instance of the object: a step left going by another (gone) instance is started again. */
  private readonly instance = crypto.randomUUID();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = createDb(env.DB);
    this.leadMs = fireLeadMs(env.FIRE_LEAD_MS);
  }

  // ---- the owner's turn ----

  /**
   * One change at a time: a D1 await would otherwise let a second change in
   * between another's read and its write. Handlers run outside the lock.
   */
  protected exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.lock.then(fn);
    this.lock = result.catch(() => undefined);
    return result;
  }

  /** A change in the owner's turn, its refusal (an ApiError) returned as data. */
  private answer<T>(fn: () => Promise<T>): Promise<Answer<T>> {
    return this.exclusive(async () => {
      try {
        return { ok: true as const, value: await fn() };
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const { status, code, message, details, headers } = error;
        return { ok: false as const, refusal: { status, code, message, details, headers } };
      }
    });
  }

  /**
   * What the object stores, in memory once read: the object is its storage's
   * only writer (every write below goes through these methods), so the copy
   * stays equal to storage; a restart reads it again.
   */
  private state: JobState | undefined;
  private runs: Map<string, RunningEntry> | undefined;

  protected read(): JobState {
    return (this.state ??= this.ctx.storage.kv.get<JobState>(JOB_STATE_KEY) ?? EMPTY_JOB_STATE);
  }

  protected save(state: JobState): JobState {
    this.ctx.storage.kv.put(JOB_STATE_KEY, state);
    this.state = state;
    return state;
  }

  private runMap(): Map<string, RunningEntry> {
    return (this.runs ??= new Map(this.ctx.storage.kv.list<RunningEntry>({ prefix: RUN_KEY_PREFIX })));
  }

  /** The runs in progress, in key order (oldest run first). */
  protected running(): RunningEntry[] {
    const runs = this.runMap();
    return [...runs.keys()].sort().map((key) => runs.get(key)!);
  }

  protected putRun(entry: RunningEntry): void {
    this.ctx.storage.kv.put(entry.key, entry);
    this.runMap().set(entry.key, entry);
  }

  private dropRun(key: string): void {
    this.ctx.storage.kv.delete(key);
    this.runMap().delete(key);
  }

  /** Sets the alarm from what is stored, in one synchronous step: a concurrent arm can never leave a stale alarm. */
  private arm(): Promise<void> {
    const at = wakeAt(this.read(), this.running(), this.leadMs);
    return at === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(at);
  }

  /**
   * Schedules by `row` (a fresh read or the owner's own write). The object's
   * next instant is kept while the row's timing is the same; otherwise it is
   * the row's next_run_at, or computed when the row has none.
   */
  private adopt(row: JobRow, state = this.read(), runSeq?: number): JobState {
    const config = configFromRow(row);
    const same = state.config?.jobId === row.jobId;
    let next: number | null = null;
    if (row.isActive) {
      if (same && sameTiming(state.config!, config) && state.next !== null) next = state.next;
      else if (row.nextRunAt !== null) next = Date.parse(row.nextRunAt);
      else next = nextRunAfter(row.cronExpression, row.timezone, clock.now())?.getTime() ?? null;
    }
    return this.save({
      config,
      next,
      lastInstant: same ? state.lastInstant : null,
      runSeq: same ? state.runSeq : runSeq,
      retired: state.retired,
    });
  }

  /**
   * How many runs a registration this object does not schedule yet already has
   * (a built-in job armed by repair, a restored object), read when the object
   * takes it on, so that no run waits on D1 for its number. Undefined for the
   * registration it schedules: its count is in `state`.
   */
  private async runCountOf(row: JobRow, state: JobState): Promise<number | undefined> {
    return state.config?.jobId === row.jobId ? undefined : await lastRunNo(this.db, row.jobId);
  }

  /**
   * The next run number of the registration `state` schedules (read from D1
   * once for an object that predates numbering). The caller stores it as
   * `runSeq` before the run is written anywhere, so no number is given twice.
   */
  private async nextRunNo(state: JobState): Promise<number> {
    return (state.runSeq ?? (await lastRunNo(this.db, state.config!.jobId))) + 1;
  }

  /** Where the job stands for a run's record: next_run_at is written only for the registration scheduled now. */
  private position(jobId: number): JobPosition {
    const { config, next } = this.read();
    if (config?.jobId !== jobId) return { version: 0 };
    return { version: config.version, nextRunAt: next === null ? null : isoMs(next) };
  }

  // ---- changes: the only writers of the job ----

  register(input: CreateJobInput, actor: Actor): Promise<Answer<JobRow>> {
    return this.answer(async () => {
      const now = clock.now();
      let row: JobRow;
      try {
        row = await insertJob(this.db, newJob(input, now, this.handlers), auditEntry(actor, "register", input.job_name, null, input, now));
      } catch (error) {
        if (!/UNIQUE constraint failed/i.test(`${String(error)} ${String((error as { cause?: unknown })?.cause ?? "")}`)) throw error;
        throw new ApiError(409, "job_exists", `A job named "${input.job_name}" is already registered.`, { job_name: input.job_name });
      }
      this.adopt(row, this.read(), 0);
      await this.arm();
      return row;
    });
  }

  /**
   * A change to the job as it is now: `write` gets a fresh read (after the
   * If-Match check) and returns undefined if the job moved on before its
   * version-checked write (only a write from outside the owner does that),
   * which is then tried again on a new read.
   */
  private async onFreshJob<T>(jobName: string, ifMatch: IfMatch, write: (job: JobRow, now: Date) => Promise<T | undefined>): Promise<T> {
    for (let tries = 1; ; tries++) {
      const job = await findJob(this.db, jobName);
      if (!job) throw jobNotFound(jobName);
      requireMatch(ifMatch, job);
      const done = await write(job, clock.now());
      if (done !== undefined) return done;
      if (tries >= WRITE_TRIES) throw changedMeanwhile(jobName);
    }
  }

  /** Changes only the fields the patch names, on a fresh read; `ifMatch` must name the version read. */
  update(jobName: string, patch: PatchJobInput, ifMatch: IfMatch, actor: Actor): Promise<Answer<JobRow>> {
    return this.answer(() =>
      this.onFreshJob(jobName, ifMatch, async (job, now) => {
        const { changes, action } = patchChanges(job, patch, now, this.handlers);
        const updated = await updateJob(this.db, job.jobId, job.version, changes, auditEntry(actor, action, jobName, present.jobDetail(job, []), patch, now));
        if (!updated) return undefined;
        this.adopt(updated);
        if (!updated.isActive) await this.endRetries(updated.jobId, "paused");
        await this.arm();
        return updated;
      }),
    );
  }

  /**
   * Deregisters the job. Runs in progress are written to D1 in the same
   * transaction, finish, and are recorded; nothing starts afterwards (no
   * alarm, retry or repair), and the registration is kept as a tombstone.
   */
  remove(jobName: string, ifMatch: IfMatch, actor: Actor): Promise<Answer<{ cancelledAt: string }>> {
    return this.answer(() =>
      this.onFreshJob(jobName, ifMatch, async (job, now) => {
        const unwritten = this.running().filter((e) => e.jobId === job.jobId && e.admitAt !== null);
        const audit = auditEntry(actor, "delete", jobName, present.jobDetail(job, []), null, now);
        if (!(await deleteJob(this.db, job, unwritten.map(runStart), audit))) return undefined;
        for (const entry of unwritten) this.putRun({ ...entry, admitAt: null });
        const { retired = [] } = this.read();
        this.save({ ...EMPTY_JOB_STATE, retired: [...retired, job.jobId].slice(-RETIRED_KEPT) });
        await this.endRetries(job.jobId, "deleted");
        await this.arm();
        return { cancelledAt: isoMs(now) };
      }),
    );
  }

  /** A manual run, now, through the same execution as a scheduled one. A paused job may be run by hand. */
  trigger(jobName: string, request: { triggeredBy: string; dryRun: boolean }, actor: Actor): Promise<Answer<{ runId: string; triggeredAt: string }>> {
    return this.answer(async () => {
      const now = clock.now();
      const job = await findJob(this.db, jobName);
      if (!job) throw jobNotFound(jobName);
      const held = this.read().config;
      if (!held || !sameConfig(held, configFromRow(job))) this.adopt(job, this.read(), await this.runCountOf(job, this.read()));
      await this.reap(expiredRuns(this.running(), now.getTime(), this.instance), now);
      const busy = this.running().find((e) => e.jobId === job.jobId);
      if (busy && job.overlapPolicy === "skip") {
        throw new ApiError(409, "run_in_progress", `Job "${jobName}" is already running (${busy.runId}) and its overlap_policy is "skip".`, {
          running_run_id: busy.runId,
        });
      }
      const runNo = await this.nextRunNo(this.read());
      this.save({ ...this.read(), runSeq: runNo });
      const entry = newRun(configFromRow(job), { runNo, startedAt: now.getTime(), scheduledFor: null, catchUp: false, ...request });
      const audit = auditEntry(actor, request.dryRun ? "dry_run" : "trigger", jobName, null, {
        run_id: entry.runId,
        triggered_by: request.triggeredBy,
        dry_run: request.dryRun,
      }, now);
      if (!(await admitRun(this.db, runStart(entry), { version: job.version }, audit))) throw changedMeanwhile(jobName);
      this.launch(entry, "start");
      await this.arm();
      return { runId: entry.runId, triggeredAt: isoMs(now) };
    });
  }

  /**
   * Self-repair, decided here from a fresh read of D1 (the supervisor only
   * names the job): a job D1 no longer has is disarmed, one the object does
   * not schedule as D1 says is adopted, an overdue instant fires now.
   * Returns what was repaired, for the supervisor's log.
   */
  reconcile(jobName: string): Promise<string[]> {
    return this.exclusive(() => this.repair(jobName));
  }

  private async repair(jobName: string): Promise<string[]> {
    const now = clock.now();
    const job = await findJob(this.db, jobName);
    const state = this.read();
    const before = state.config;
    const repairs: string[] = [];
    if (job ? !job.isActive && before?.isActive : before !== null) repairs.push("disarmed: job is deleted or paused in D1");
    if (!job) {
      if (before) {
        this.save({ ...EMPTY_JOB_STATE, retired: [...(state.retired ?? []), before.jobId].slice(-RETIRED_KEPT) });
        await this.endRetries(before.jobId, "deleted");
      }
      await this.arm();
      return repairs;
    }
    const after = this.adopt(job, state, await this.runCountOf(job, state));
    if (!before) repairs.push("armed: job had no schedule");
    else if (repairs.length === 0 && !sameConfig(before, after.config!)) repairs.push("rescheduled: schedule differed from D1");
    if (job.isActive && after.next !== null) {
      const alarm = await this.ctx.storage.getAlarm();
      if (after.next < now.getTime() - ON_TIME_GRACE_MS) {
        // An alarm that never fired: fire now; the alarm applies the misfire policy.
        await this.ctx.storage.setAlarm(now.getTime());
        return [...repairs, "re-armed: next run was overdue"];
      }
      if (repairs.length === 0 && (alarm === null || alarm > after.next)) repairs.push("re-armed: alarm was missing");
      if (job.nextRunAt === null || Date.parse(job.nextRunAt) !== after.next) {
        await setNextRunAt(this.db, job.jobId, job.version, isoMs(after.next));
        if (repairs.length === 0) repairs.push("synced next_run_at to D1");
      }
    }
    await this.arm();
    return repairs;
  }

  // ---- timing: the alarm reads state, plans, applies, re-arms ----

  override async alarm(): Promise<void> {
    await this.awaitInstant(clock.now());
    await this.exclusive(async () => {
      const now = clock.now();
      const plan = planAlarm(this.read(), this.running(), now.getTime(), this.instance);
      await this.reap(plan.reap, now);
      for (const entry of plan.retry) this.launch({ ...entry, attempts: entry.attempts + 1, retryAt: null }, "retry");
      for (const entry of plan.step) this.launch(entry.inFlight ? { ...entry, resumes: entry.resumes + 1 } : entry, entry.inFlight ? "resume" : "step");
      for (const entry of plan.admit) await this.admitLate(entry);
      if (plan.instant) await this.applyInstant(plan.instant, now);
      await this.arm();
    });
  }

  /**
   * The alarm for the next instant is set `leadMs` early, so the object is
   * loaded by the time the instant comes. It waits out the rest here, outside
   * the lock (a change meanwhile is not held up, and is what the alarm then
   * decides by). Never when something else is due now (a retry, a deadline).
   */
  private async awaitInstant(now: Date): Promise<void> {
    const { config, next } = this.read();
    if (next === null || !config?.isActive) return;
    const wait = next - now.getTime();
    if (wait <= 0 || wait > this.leadMs) return;
    if (runWakeTimes(this.running()).some((t) => t <= now.getTime())) return;
    await clock.sleep(wait);
  }

  private async applyInstant(plan: InstantPlan, now: Date): Promise<void> {
    // Read after the alarm's reaps (a reap can repair the stored state); nothing else writes it in the owner's turn.
    const state = this.read();
    const config = state.config!;
    if (plan.action === "move") {
      this.save({ ...state, next: plan.next });
      await setNextRunAt(this.db, config.jobId, config.version, plan.next === null ? null : isoMs(plan.next));
      return;
    }
    // The stored next instant was passed over (the service was down, or the alarm lost): it is missed.
    if (state.next !== null && plan.scheduledFor > state.next) {
      const actions = planPassedOver(config.jobName, config, { from: state.next, until: plan.scheduledFor });
      this.enqueueAlerts(config.jobName, await applyAlertWrites(this.db, [alertWrites(this.db, config, actions, isoMs(now))]));
    }
    const runNo = await this.nextRunNo(state);
    if (plan.action === "skip") {
      this.save({ ...state, runSeq: runNo, next: plan.next });
      logEvent("run.skipped", { job_name: config.jobName, run_id: runNo, scheduled_for: isoMs(plan.scheduledFor), reason: plan.reason });
      const skip = { jobId: config.jobId, jobName: config.jobName, runNo, scheduledFor: isoMs(plan.scheduledFor), at: isoMs(now), reason: plan.reason };
      const actions = planSkipAlerts(config.jobName, config, { runNo, scheduledFor: plan.scheduledFor, reason: plan.reason });
      const alerts = alertWrites(this.db, config, actions, skip.at, skippedNow(skip));
      this.afterAlerts(config.jobName, alerts, await recordSkipped(this.db, skip, this.position(config.jobId), alerts.statements));
      return;
    }
    // The claim: the instant, the next one and the run's entry are stored in one
    // synchronous step (one atomic write), so a repeated alarm never runs it twice.
    this.save({ ...state, runSeq: runNo, next: plan.next, lastInstant: plan.scheduledFor });
    const entry = newRun(config, {
      runNo,
      startedAt: now.getTime(),
      scheduledFor: plan.scheduledFor,
      catchUp: plan.catchUp,
      triggeredBy: "scheduler",
      dryRun: false,
    });
    this.launch(entry, "start");
    if (plan.missed > 0) logEvent("job.misfire", { job_name: config.jobName, missed: plan.missed, catch_up: plan.catchUp });
  }

  // ---- runs in progress ----

  /**
   * Starts one step of a run, in the next macrotask rather than in the
   * caller's own turn: every other object due at the same instant claims its
   * run first, so one job's handler never delays another job's start. Each
   * step is its own invocation (the run's first from its claim, each next one
   * from an alarm), so a long run is bounded per invocation, lets every other
   * request in between, and goes on after a restart from its last committed
   * step. The outcome is settled in the owner's turn. A step may take
   * `timeout_seconds`; a run making progress is never timed out.
   */
  private launch(entry: RunningEntry, why: "start" | "step" | "retry" | "resume"): void {
    const now = clock.now().getTime();
    const going: RunningEntry = {
      ...entry,
      stepAt: null,
      inFlight: { owner: this.instance, token: crypto.randomUUID(), since: now },
      deadlineAt: now + entry.timeoutSeconds * 1000,
    };
    this.putRun(going);
    this.ctx.waitUntil(
      clock
        .sleep(0)
        .then(async () => {
          if (why === "start") {
            logEvent("run.start", {
              job_name: entry.jobName,
              run_id: entry.runId,
              status: "running",
              triggered_by: entry.triggeredBy,
              dry_run: entry.dryRun,
              scheduled_for: entry.scheduledFor,
              started_at: isoMs(entry.startedAt),
            });
          } else if (why === "retry" && entry.admitAt === null) {
            await setAttempts(this.db, entry.jobId, entry.runNo, entry.attempts);
          } else if (why === "resume") {
            logEvent("run.resume", { job_name: entry.jobName, run_id: entry.runId, progress: entry.progress }, "warn");
          }
          const outcome = await executeStep(this.db, going, this.handlers);
          await this.exclusive(async () => {
            await this.settle(going, outcome, clock.now());
            await this.arm();
          });
          // The step's notifications are committed with its effects: put them on the queue (the
          // supervisor's sweep queues whatever a crash here leaves behind). A run that has counted
          // nothing has queued nothing, so it costs no query (most runs of most jobs).
          if (outcome.status !== "failed" && !going.dryRun && Object.values(outcome.summary).some((n) => n > 0)) {
            await enqueueRunNotifications(this.env, this.db, { jobName: going.jobName, runId: going.runId });
          }
        })
        .catch((error) => logEvent("run.error", { job_name: entry.jobName, run_id: entry.runId, error: String(error) }, "error")),
    );
  }

  /** A step's outcome: the next step (due now), a retry after backoff if the run may have one, or the run's record. */
  private async settle(step: RunningEntry, outcome: StepOutcome, now: Date): Promise<void> {
    const entry = this.runMap().get(step.key);
    // Reaped as timed out meanwhile, or started again by another instance: that one's outcome stands.
    if (!entry || entry.inFlight?.token !== step.inFlight?.token) return;
    const idle = { ...entry, inFlight: null, deadlineAt: null };
    if (outcome.status === "more") {
      this.putRun({ ...idle, stepAt: now.getTime(), progress: outcome.progress, resumes: 0 });
      return;
    }
    if (outcome.status === "failed" && entry.attempts <= entry.maxRetries && !entry.final) {
      const retryAt = now.getTime() + retryDelayMs(entry.attempts);
      this.putRun({ ...idle, retryAt });
      logEvent("run.retry", { job_name: entry.jobName, run_id: entry.runId, attempts: entry.attempts, error: outcome.error, retry_at: isoMs(retryAt) }, "warn");
      return;
    }
    await this.record(entry, { ...outcome, status: outcome.status === "done" ? "success" : "failed" }, now);
  }

  /** Writes a scheduled run still going to D1 as running, so it shows in the API. */
  private async admitLate(entry: RunningEntry): Promise<void> {
    this.putRun({ ...entry, admitAt: null });
    await admitRun(this.db, runStart(entry), this.position(entry.jobId));
  }

  /** Closes as failed every run whose step hung past its timeout, or whose step kept dying with its instance. */
  private async reap(expired: RunningEntry[], now: Date): Promise<void> {
    for (const entry of expired) {
      const error =
        entry.resumes > 0 && entry.inFlight?.owner !== this.instance
          ? `failed: the job's Durable Object restarted ${entry.resumes} times during one step of attempt ${entry.attempts}`
          : `timed out: a step of attempt ${entry.attempts} did not complete within timeout_seconds=${entry.timeoutSeconds} ` +
            "(the handler hung)";
      await this.record(entry, { status: "failed", summary: null, error }, now);
    }
  }

  /**
   * The job was paused or deleted: no run of `jobId` starts another attempt.
   * A run waiting for its retry is closed now; one going finishes its attempt.
   */
  private async endRetries(jobId: number, why: "paused" | "deleted"): Promise<void> {
    const now = clock.now();
    for (const entry of this.running()) {
      if (entry.jobId !== jobId) continue;
      if (entry.retryAt === null) this.putRun({ ...entry, final: true });
      else await this.record(entry, { status: "failed", summary: null, error: `not retried: the job was ${why} while the run waited for attempt ${entry.attempts + 1}` }, now);
    }
  }

  /** The run's final record in D1 (one batch); the run is then no longer in progress. */
  private async record(entry: RunningEntry, outcome: AttemptOutcome, now: Date): Promise<void> {
    const durationMs = now.getTime() - entry.startedAt;
    const final = { status: outcome.status, completedAt: isoMs(now), durationMs, resultSummary: outcome.summary, error: outcome.error };
    const config = this.read().config;
    const ours = config?.jobId === entry.jobId;
    const actions = ours
      ? planRunAlerts(entry.jobName, config!, {
          runNo: entry.runNo,
          runId: entry.runId,
          scheduledFor: entry.scheduledFor === null ? null : Date.parse(entry.scheduledFor),
          startedAt: entry.startedAt,
          completedAt: now.getTime(),
          status: outcome.status,
          dryRun: entry.dryRun,
          error: outcome.error,
        })
      : [];
    // Openings go in the record's batch. A resolution follows it, only if the job has an open
    // alert then (most runs of most jobs have none, and so cost no alert statements).
    const written = recordedNow(entry, final.completedAt);
    const alerts = alertWrites(this.db, entry, actions.filter((a) => a.type !== "resolve"), final.completedAt, written);
    const { recorded, alertsOpen, also } = await recordRun(this.db, runStart(entry), final, this.position(entry.jobId), alerts.statements);
    this.dropRun(entry.key);
    const { paused } = this.afterAlerts(entry.jobName, alerts, also);
    const resolve = actions.filter((a) => a.type === "resolve");
    if (recorded && alertsOpen && resolve.length > 0) {
      this.enqueueAlerts(entry.jobName, await applyAlertWrites(this.db, [alertWrites(this.db, entry, resolve, final.completedAt, written)]));
    }
    if (recorded && !entry.dryRun) {
      const { jobName, runId, scheduledFor, catchUp, startedAt, attempts } = entry;
      const at = scheduledFor === null ? null : Date.parse(scheduledFor);
      this.writeRunMetric(runDataPoint({ jobName, runId, status: outcome.status, scheduledFor: at, catchUp, startedAt, durationMs, attempts }));
    }
    // Its job is gone from D1 (deleted behind the owner's back): nothing was written; repair from a fresh read.
    // Paused by its policy in the record's batch: the owner adopts the pause the same way.
    if ((!recorded || paused) && ours) await this.repair(entry.jobName);
    logEvent(
      "run.end",
      {
        job_name: entry.jobName,
        run_id: entry.runId,
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

  /** Writes a finished run's data point to Analytics Engine (never awaited: the platform sends it after the invocation). */
  protected writeRunMetric(point: AnalyticsEngineDataPoint): void {
    try {
      this.env.RUN_METRICS?.writeDataPoint(point);
    } catch (error) {
      logEvent("metrics.write_failed", { error: String(error) }, "warn");
    }
  }

  /** Puts the alert notifications a batch wrote on the queue, once it has committed (the sweep requeues any a crash loses). */
  private afterAlerts(jobName: string, alerts: AlertWrites, results: unknown[]) {
    const written = alerts.read(results);
    this.enqueueAlerts(jobName, written.notificationIds);
    return written;
  }

  private enqueueAlerts(jobName: string, ids: number[]): void {
    if (ids.length === 0) return;
    this.ctx.waitUntil(
      enqueueIds(this.env, this.db, ids).catch((error) => logEvent("delivery.enqueue_failed", { job_name: jobName, alerts: ids.length, error: String(error) }, "error")),
    );
  }

  /** What this object holds, for the supervisor, health checks and tests. */
  async inspect(): Promise<SchedulerState> {
    const alarm = await this.ctx.storage.getAlarm();
    const { config, next, retired = [] } = this.read();
    return {
      config,
      nextRunAt: next === null ? null : isoMs(next),
      alarmAt: alarm === null ? null : isoMs(alarm),
      running: this.running(),
      retired,
    };
  }
}

const changedMeanwhile = (jobName: string) =>
  new ApiError(409, "job_changed", `Job "${jobName}" was changed outside this service while the change was being made; try again.`, { job_name: jobName });
