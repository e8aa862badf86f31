import type { Db } from "../db/client";
import { findJobIdByName } from "../repositories/run-steps-repo";
import { checkCertificationExpiry } from "./certification-expiry";
import { liftExpiredPauses } from "./pause-auto-lift";
import type { HandlerContext, JobHandler, ResultSummary } from "./types";
import { generateWeeklyExpiryReport } from "./weekly-expiry-report";

// Handlers that finish in one step and keep no ledger (see oneStep).
const singleStep = new WeakSet<JobHandler>();

/**
 * A handler whose whole work is one short call: it is done after its first
 * step and keeps no ledger. For small jobs (and test and bench handlers); a
 * handler whose work grows with the platform goes chunk by chunk (chunked.ts).
 */
export function oneStep(run: (ctx: HandlerContext) => Promise<ResultSummary>): JobHandler {
  const handler: JobHandler = {
    async step(ctx) {
      const summary = await run(ctx);
      return { done: true, summary, progress: { processed: 1, total: 1 } };
    },
  };
  singleStep.add(handler);
  return handler;
}

// A Map, not an object literal: "constructor" or "__proto__" must never look like a handler.
const registry = new Map<string, JobHandler>([
  ["checkCertificationExpiry", checkCertificationExpiry],
  ["liftExpiredPauses", liftExpiredPauses],
  ["generateWeeklyExpiryReport", generateWeeklyExpiryReport],
]);

/** The handler registered under this name: the job's object calls its `step` once per alarm invocation. */
export function getStepHandler(name: string): JobHandler | undefined {
  return registry.get(name);
}

/** The context the run executor builds today (it has no job id yet). */
type ExecutorContext = Omit<HandlerContext, "jobId"> & { jobId?: number; db: Db };

/**
 * TEMPORARY adapter, to be removed when the job's Durable Object runs one
 * step per alarm invocation (issue 11, wired by the lead): runs a handler's
 * steps in a loop within ONE invocation, for src/scheduler/run-executor.ts,
 * which still expects `(ctx) => Promise<ResultSummary>`. A big run through
 * this loop still meets D1's per-invocation query limit; that is what the
 * step-per-alarm engine fixes. The executor's context has no job id yet, so
 * it is looked up by name (chunked handlers key their ledger by it).
 */
export function getHandler(name: string): ((ctx: ExecutorContext) => Promise<ResultSummary>) | undefined {
  const handler = registry.get(name);
  if (!handler) return undefined;
  return async (ctx) => {
    const jobId = ctx.jobId ?? (singleStep.has(handler) ? 0 : ((await findJobIdByName(ctx.db, ctx.jobName)) ?? 0));
    for (;;) {
      const result = await handler.step({ ...ctx, jobId });
      if (result.done) return result.summary;
    }
  };
}

export function isHandlerName(name: string): boolean {
  return registry.has(name);
}

export function handlerNames(): string[] {
  return [...registry.keys()].sort();
}

/**
 * Adds a handler in code. The registry is the only place handlers come from;
 * the API can only name what is registered here.
 */
export function registerHandler(name: string, handler: JobHandler): void {
  registry.set(name, handler);
}

export type { HandlerContext, JobHandler, ResultSummary, StepResult } from "./types";
