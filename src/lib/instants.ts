// Instants as the service stores and prints them: ISO-8601 UTC, parsed strictly.

export const DAY_MS = 86_400_000;

/** ISO-8601 UTC with a Z, to the second, as the contract prints times. */
export function iso(date: Date | number): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** ISO-8601 UTC with milliseconds, for start and end times of runs. */
export function isoMs(date: Date | number): string {
  return new Date(date).toISOString();
}

// Date-only, or date + time with an explicit zone. A time without a zone is
// ambiguous (local to whom?), so it is a bad row, not a guess.
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

/**
 * Parses a stored ISO-8601 instant, or returns null for a bad value.
 * Stricter than `Date.parse`, which silently turns 2025-02-30 into March 2nd.
 */
export function parseInstant(value: string | null | undefined): Date | null {
  if (typeof value !== "string") return null;
  const m = ISO_INSTANT.exec(value);
  if (!m) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0, offH = 0, offM = 0] = m
    .slice(1)
    .map((part) => (part === undefined ? undefined : Number(part)));
  const calendar = new Date(Date.UTC(year!, month! - 1, day!));
  if (calendar.getUTCMonth() !== month! - 1 || calendar.getUTCDate() !== day) return null;
  if (hour! > 23 || minute! > 59 || second! > 59 || offH! > 23 || offM! > 59) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms);
}

export function addDays(instant: Date, days: number): Date {
  return new Date(instant.getTime() + days * DAY_MS);
}
