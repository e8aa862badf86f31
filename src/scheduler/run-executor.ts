import type { Db } from "../db/client";
import type { HandlerRegistry } from "../handlers";
import { formatRunId } from "../lib/ids";
import { isoMs } from "../lib/instants";
import type { RunOutcome, RunStart } from "../repositories/runs-repo";
import type { JobConfig } from "./job-config";

/**
 * How long a scheduled run may go before it is written to D1 as `running`.
 * A run that finishes sooner (most do) is written once, finished: one D1
 * batch per run. One that takes longer shows as running from then on.
 */
export const ADMIT_AFTER_MS = 10_000;

/** A run in progress, as stored in its job's object (it survives a restart). */
export interface RunningEntry {
  key: string;
  /** The run's number in its registration: run_id is formatRunId(runNo), known from the start. */
  runNo: number;
  runId: string;
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
  /** When a scheduled run still going is written to D1 as running; null once it is (or for a manual run, written at once). */
  admitAt: number | null;
  /** Set when the job was paused or deleted during the run: the attempt going finishes, no retry follows. */
  final: boolean;
  /** When the run's next step starts (each step is its own invocation); null while one is going, or a retry waits. */
  stepAt: number | null;
  /** The step going now, and which instance of the object runs it: one that died with its instance is started again. */
  inFlight: { owner: string; token: string; since: number } | null;
  /** What the handler reported after its last step. */
  progress: { processed: number; total: number | null } | null;
  /** Times the step going now was started again after its instance went (reset by each committed step). */
  resumes: number;
}

export const RUN_KEY_PREFIX = "run:";

/** A run starting now, as its entry in the object's storage. */
export function newRun(
  config: JobConfig,
  run: { runNo: number; startedAt: number; scheduledFor: number | null; catchUp: boolean; triggeredBy: string; dryRun: boolean },
): RunningEntry {
  return {
    key: `${RUN_KEY_PREFIX}${config.jobId}:${String(run.runNo).padStart(12, "0")}`,
    runNo: run.runNo,
    runId: formatRunId(run.runNo),
    jobId: config.jobId,
    jobName: config.jobName,
    handler: config.handler,
    dryRun: run.dryRun,
    triggeredBy: run.triggeredBy,
    scheduledFor: run.scheduledFor === null ? null : isoMs(run.scheduledFor),
    catchUp: run.catchUp,
    startedAt: run.startedAt,
    attempts: 1,
    maxRetries: config.maxRetries,
    timeoutSeconds: config.timeoutSeconds,
    deadlineAt: run.startedAt + config.timeoutSeconds * 1000,
    retryAt: null,
    admitAt: run.scheduledFor === null ? null : run.startedAt + ADMIT_AFTER_MS,
    final: false,
    stepAt: run.startedAt,
    inFlight: null,
    progress: null,
    resumes: 0,
  };
}

/** The run as D1 records it. */
export function runStart(entry: RunningEntry): RunStart {
  return {
    jobId: entry.jobId,
    jobName: entry.jobName,
    runNo: entry.runNo,
    scheduledFor: entry.scheduledFor,
    catchUp: entry.catchUp,
    triggeredBy: entry.triggeredBy,
    dryRun: entry.dryRun,
    startedAt: isoMs(entry.startedAt),
    attempts: entry.attempts,
  };
}

/** What came of one step: the run is done, has more steps to go, or the attempt failed. */
export type StepOutcome =
  | { status: "done"; summary: Record<string, number>; error: null }
  | { status: "more"; summary: Record<string, number>; progress: { processed: number; total: number | null }; error: null }
  | { status: "failed"; summary: null; error: string };

/** A run's final outcome, as its record says. */
export type AttemptOutcome = Pick<RunOutcome, "status" | "error"> & { summary: Record<string, number> | null };

/**
 * Runs one step of a run's handler and returns what came of it. It decides
 * nothing: the job's object records the outcome, schedules the next step, or
 * retries. Every step of a run sees the same `now`: the run's start.
 */
export async function executeStep(db: Db, entry: RunningEntry, handlers: HandlerRegistry): Promise<StepOutcome> {
  try {
    const handler = handlers.get(entry.handler);
    if (!handler) throw new Error(`handler "${entry.handler}" is not registered in this deployment`);
    const { done, summary, progress } = await handler.step({
      db,
      now: new Date(entry.startedAt),
      dryRun: entry.dryRun,
      runId: entry.runId,
      jobId: entry.jobId,
      jobName: entry.jobName,
    });
    return done ? { status: "done", summary, error: null } : { status: "more", summary, progress, error: null };
  } catch (thrown) {
    return { status: "failed", summary: null, error: thrown instanceof Error ? thrown.message : String(thrown) };
  }
}
