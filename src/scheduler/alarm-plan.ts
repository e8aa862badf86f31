import { planDue } from "./due-plan";
import type { JobConfig } from "./job-config";
import type { RunningEntry } from "./run-executor";

/** What a job's object stores about its job, under one key (JOB_STATE_KEY). */
export interface JobState {
  /** The registration this object schedules (the job's row as last read or written); null: none. */
  config: JobConfig | null;
  /** The next instant (ms since the epoch); null when the job is not scheduled. */
  next: number | null;
  /** The latest scheduled instant this registration has started a run for. */
  lastInstant: number | null;
  /** The last run number given out in this registration; absent when not known yet (read from D1 once). */
  runSeq?: number;
  /** Registrations of this name that were deleted (tombstones): nothing of theirs starts again. */
  retired?: number[];
}

/** The storage key of the JobState; its value is the name stored objects already have. */
export const JOB_STATE_KEY = "schedule";

export const EMPTY_JOB_STATE: JobState = { config: null, next: null, lastInstant: null };

/** What the stored next instant calls for, now that it has come. */
export type InstantPlan =
  | { action: "run"; scheduledFor: number; catchUp: boolean; missed: number; next: number | null }
  | { action: "skip"; scheduledFor: number; reason: string; next: number | null }
  /** Nothing to run (the instant already has its run, or none fell due): only the next instant moves. */
  | { action: "move"; next: number | null };

export interface AlarmPlan {
  /** Steps this instance runs past their deadline (hung), and runs whose steps keep dying with their instance: recorded as failed. */
  reap: RunningEntry[];
  /** Runs whose backoff is over: their next attempt starts. */
  retry: RunningEntry[];
  /**
   * Runs whose next step is due, and steps left going by an instance of the
   * object that is gone (a restart, a deploy): each starts now, from the run's
   * last committed step.
   */
  step: RunningEntry[];
  /** Scheduled runs going for a while: written to D1 as running. */
  admit: RunningEntry[];
  /** Null while the next instant has not come (or the job is not scheduled). */
  instant: InstantPlan | null;
}

/**
 * How long a step may go before the alarm looks whether the instance running it
 * is still there (after a restart, the step starts again from its last commit).
 */
export const STEP_CHECK_MS = 10_000;

/** Restarts in a row, each during the same step, after which a run is failed rather than started again (a step that kills its instance). */
export const MAX_RESUMES = 5;

const orphaned = (e: RunningEntry, instance: string) => e.inFlight !== null && e.inFlight.owner !== instance;

/**
 * The runs to close as failed at `now`: a step this instance runs past its deadline (hung),
 * or one whose step kept dying with its instance. A step left by a gone instance is
 * otherwise started again whatever its deadline: the run was making progress when its
 * instance went.
 */
export function expiredRuns(running: RunningEntry[], now: number, instance: string): RunningEntry[] {
  return running.filter((e) => (orphaned(e, instance) ? e.resumes >= MAX_RESUMES : e.deadlineAt !== null && e.deadlineAt <= now));
}

/** Pure: what an alarm at `now` does, from what the object stores; `instance` is this instance of the object. */
export function planAlarm(state: JobState, running: RunningEntry[], now: number, instance: string): AlarmPlan {
  const reap = expiredRuns(running, now, instance);
  const live = running.filter((e) => !reap.includes(e));
  return {
    reap,
    retry: live.filter((e) => e.retryAt !== null && e.retryAt <= now),
    step: live.filter((e) => (e.stepAt !== null && e.stepAt <= now) || orphaned(e, instance)),
    admit: live.filter((e) => e.admitAt !== null && e.admitAt <= now),
    instant: planInstant(state, live, now),
  };
}

function planInstant(state: JobState, live: RunningEntry[], now: number): InstantPlan | null {
  const { config, next } = state;
  if (!config?.isActive || next === null || next > now) return null;
  const due = planDue(config, new Date(next), new Date(now));
  const following = due.next?.getTime() ?? null;
  if (due.skipped) return { action: "skip", scheduledFor: due.skipped.scheduledFor.getTime(), reason: due.skipped.reason, next: following };
  if (!due.run) return { action: "move", next: following };

  const scheduledFor = due.run.scheduledFor.getTime();
  // A repeated alarm: this instant already has its run. Never run it twice.
  if (scheduledFor <= (state.lastInstant ?? Number.NEGATIVE_INFINITY)) return { action: "move", next: following };
  const busy = live.find((e) => e.jobId === config.jobId);
  if (busy && config.overlapPolicy === "skip") {
    return { action: "skip", scheduledFor, reason: `previous run ${busy.runId} was still running (overlap_policy is "skip")`, next: following };
  }
  return { action: "run", scheduledFor, catchUp: due.run.catchUp, missed: due.missed, next: following };
}

/** The times runs in progress need the alarm for: a deadline, a retry, a late admission, a next step, a step to look at. */
export function runWakeTimes(running: RunningEntry[]): number[] {
  return running.flatMap((e) =>
    [e.deadlineAt, e.retryAt, e.admitAt, e.stepAt, e.inFlight && e.inFlight.since + STEP_CHECK_MS].filter((t): t is number => t !== null),
  );
}

/** When the object must wake next (null: never): the earliest of the next instant less the lead, and what runs need. */
export function wakeAt(state: JobState, running: RunningEntry[], leadMs: number): number | null {
  const times = runWakeTimes(running);
  if (state.config?.isActive && state.next !== null) times.push(state.next - leadMs);
  return times.length === 0 ? null : Math.min(...times);
}
