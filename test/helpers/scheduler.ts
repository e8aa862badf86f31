import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";
import type { RunningEntry } from "../../src/scheduler/run-executor";
import type { JobScheduler as TestJobScheduler } from "../worker";
import { call } from "./api";
import { hold, type Hold } from "./hold";

export const MINUTE = 60_000;
export const minuteFloor = (t: number) => Math.floor(t / MINUTE) * MINUTE;

/** The wrangler.toml FIRE_LEAD_MS the tests run with: a job's alarm is set this long before its instant. */
export const FIRE_LEAD_MS = Number(env.FIRE_LEAD_MS);

/** Where a job's alarm should be for a next instant (ISO): FIRE_LEAD_MS before it. */
export const alarmFor = (nextRunAt: unknown) => new Date(Date.parse(String(nextRunAt)) - FIRE_LEAD_MS).toISOString();

/** The job's object, with the test hooks of the tests' Worker (test/worker.ts binds JOB_SCHEDULER to that subclass). */
export const schedulerOf = (jobName: string) => env.JOB_SCHEDULER.getByName(jobName) as DurableObjectStub<TestJobScheduler>;

/** What the job's object holds: config, next instant, alarm, runs in progress. */
export const inspect = (jobName: string) => schedulerOf(jobName).inspect();

/**
 * Rewrites the object's storage, then evicts it (storage kept, memory gone),
 * as a restart would: the object reads what the test wrote.
 */
export async function rewriteStorage(jobName: string, rewrite: (kv: SyncKvStorage) => void): Promise<void> {
  await runInDurableObject(schedulerOf(jobName), (_instance, state) => rewrite(state.storage.kv));
  await evictDurableObject(schedulerOf(jobName));
}

/** Moves the object's stored next instant (back-dating makes it due). Runs in progress carry on. */
export async function setNext(jobName: string, at: number): Promise<void> {
  await runInDurableObject(schedulerOf(jobName), (instance) => instance.setNext(at));
}

/** Rewrites the stored runs in progress (back-date a deadline or a retry). */
export async function editRunning(jobName: string, edit: (entry: RunningEntry) => RunningEntry): Promise<void> {
  await runInDurableObject(schedulerOf(jobName), (instance) => instance.editRunning(edit));
}

/**
 * Holds the next D1 batch the job's object sends (a scheduled run's record)
 * until `release()`: built from what the object held then, not yet sent. Lets
 * a test land a change between a record's read and its write.
 */
export async function holdNextBatch(jobName: string): Promise<Hold> {
  const gate = hold();
  await runInDurableObject(schedulerOf(jobName), (instance) => instance.holdNextBatch(gate));
  return gate;
}

/** Holds the next single D1 statement the job's object runs (its fresh read of the job, say) until `release()`. */
export async function holdNextStatement(jobName: string): Promise<Hold> {
  const gate = hold();
  await runInDurableObject(schedulerOf(jobName), (instance) => instance.holdNextStatement(gate));
  return gate;
}

/** Runs the object's alarm now, as the platform would when it is due. */
export const fireAlarm = (jobName: string) => runDurableObjectAlarm(schedulerOf(jobName));

export interface RunRecord {
  seq: number;
  run_no: number;
  status: string;
  scheduled_for: string | null;
  catch_up: number;
  triggered_by: string;
  dry_run: number;
  attempts: number;
  error: string | null;
  result_summary: string | null;
}

/** Every run recorded for a job name, oldest first, straight from D1. */
export async function runsOf(jobName: string): Promise<RunRecord[]> {
  const { results } = await env.DB.prepare("SELECT * FROM runs WHERE job_name = ? ORDER BY seq").bind(jobName).all<RunRecord>();
  return results;
}

export async function jobRow(jobName: string) {
  return env.DB.prepare("SELECT * FROM jobs WHERE job_name = ?").bind(jobName).first<Record<string, unknown>>();
}

/**
 * Waits (bounded) until no run of the job is in progress, in its object or in
 * D1 (a scheduled run is written to D1 when it ends), then returns the runs.
 */
export async function settled(jobName: string): Promise<RunRecord[]> {
  await vi.waitFor(
    async () => {
      if ((await inspect(jobName)).running.length > 0) throw new Error("still running in its object");
      const runs = await runsOf(jobName);
      if (runs.some((r) => r.status === "running")) throw new Error("still running in D1");
    },
    { timeout: 5_000, interval: 10 },
  );
  return runsOf(jobName);
}

export async function lastResult(jobName: string) {
  return call("GET", `/jobs/${jobName}/last-result`);
}
