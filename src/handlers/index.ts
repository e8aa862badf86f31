import { checkCertificationExpiry } from "./certification-expiry";
import { liftExpiredPauses } from "./pause-auto-lift";
import type { JobHandler } from "./types";
import { generateWeeklyExpiryReport } from "./weekly-expiry-report";

// A Map, not an object literal: "constructor" or "__proto__" must never look like a handler.
const registry = new Map<string, JobHandler>([
  ["checkCertificationExpiry", checkCertificationExpiry],
  ["liftExpiredPauses", liftExpiredPauses],
  ["generateWeeklyExpiryReport", generateWeeklyExpiryReport],
]);

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

export type { HandlerContext, JobHandler, ResultSummary } from "./types";
