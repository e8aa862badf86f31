import { logEvent } from "../lib/log";

/**
 * How long before its instant a job's object is woken (the FIRE_LEAD_MS var).
 * The object loads (cold start, storage opened) while there is still time, then
 * waits for the instant itself, so a run starts at its instant rather than one
 * cold start later. The price: each scheduled run keeps its object awake up to
 * this long. 0 turns it off (the alarm is set for the instant).
 */
export const DEFAULT_FIRE_LEAD_MS = 1_000;
export const MAX_FIRE_LEAD_MS = 10_000;

let warnedInvalidLead = false;

/** FIRE_LEAD_MS as a number; an invalid value falls back to the default, with one warning per isolate. */
export function fireLeadMs(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_FIRE_LEAD_MS;
  const ms = Number(raw);
  if (Number.isInteger(ms) && ms >= 0 && ms <= MAX_FIRE_LEAD_MS) return ms;
  if (!warnedInvalidLead) {
    warnedInvalidLead = true;
    logEvent(
      "config.invalid",
      { name: "FIRE_LEAD_MS", value: raw, using: DEFAULT_FIRE_LEAD_MS, expected: `an integer from 0 to ${MAX_FIRE_LEAD_MS}` },
      "warn",
    );
  }
  return DEFAULT_FIRE_LEAD_MS;
}

