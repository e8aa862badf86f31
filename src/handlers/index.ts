import { checkCertificationExpiry } from "./certification-expiry";
import { liftExpiredPauses } from "./pause-auto-lift";
import type { HandlerContext, JobHandler, ResultSummary } from "./types";
import { generateWeeklyExpiryReport } from "./weekly-expiry-report";

/**
 * A handler whose whole work is one short call: it is done after its first
 * step and keeps no ledger. For small jobs (and test and bench handlers); a
 * handler whose work grows with the platform goes chunk by chunk (chunked.ts).
 */
export function oneStep(run: (ctx: HandlerContext) => Promise<ResultSummary>): JobHandler {
  return {
    async step(ctx) {
      const summary = await run(ctx);
      return { done: true, summary, progress: { processed: 1, total: 1 } };
    },
  };
}

/**
 * The handlers a job can name, by name. The registry is the only place
 * handlers come from: the API can only name what is in it, and the job's object
 * calls the named handler's `step` once per invocation. A Map, not an object
 * literal: "constructor" or "__proto__" must never look like a handler.
 */
export type HandlerRegistry = ReadonlyMap<string, JobHandler>;

/**
 * The built-in handlers, plus `extra` (the test and benchmark Workers' own;
 * a deployment runs the built-ins only). A built-in cannot be replaced.
 */
export function handlerRegistry(extra: Record<string, JobHandler> = {}): HandlerRegistry {
  const registry = new Map<string, JobHandler>(Object.entries(extra));
  registry.set("checkCertificationExpiry", checkCertificationExpiry);
  registry.set("liftExpiredPauses", liftExpiredPauses);
  registry.set("generateWeeklyExpiryReport", generateWeeklyExpiryReport);
  return registry;
}

/** What the service's JobScheduler runs. */
export const BUILT_IN_HANDLERS: HandlerRegistry = handlerRegistry();

/** The registry's names in order, for a refusal that lists them. */
export function handlerNames(registry: HandlerRegistry): string[] {
  return [...registry.keys()].sort();
}

export type { HandlerContext, JobHandler, ResultSummary, StepResult } from "./types";
