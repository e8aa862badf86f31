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

// A Map, not an object literal: "constructor" or "__proto__" must never look like a handler.
const registry = new Map<string, JobHandler>([
  ["checkCertificationExpiry", checkCertificationExpiry],
  ["liftExpiredPauses", liftExpiredPauses],
  ["generateWeeklyExpiryReport", generateWeeklyExpiryReport],
]);

/** The handler registered under this name: the job's object calls its `step` once per invocation. */
export function getHandler(name: string): JobHandler | undefined {
  return registry.get(name);
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
