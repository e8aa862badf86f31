import { Cron } from "croner";

/**
 * Cron arithmetic: pure, no I/O, explicit time zone. Everything about when a
 * job fires is decided here, on top of croner.
 *
 * DST (croner's behaviour, pinned by test/cron.test.ts):
 * - a wall time that does not exist (spring forward) fires once, at the first
 *   instant after the gap;
 * - a wall time that happens twice (fall back) fires once, at the first
 *   occurrence, when the hour is fixed; an hour field of `*` fires every real hour.
 */

export const MAX_CRON_LENGTH = 100;
export const MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"] as const;
const FIELD_NAMES = ["minute", "hour", "day-of-month", "month", "day-of-week"] as const;
const FIELD_RANGES = ["0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-7 or SUN-SAT"] as const;

export type ScheduleCheck = { ok: true } | { ok: false; message: string };

/**
 * The canonical spelling of an IANA time zone ("america/new_york" gives
 * "America/New_York"), or null if it is not one. Offsets such as "+05:30",
 * which Intl also accepts, are refused: they have no DST rules.
 */
export function canonicalTimeZone(zone: string): string | null {
  if (zone.length === 0 || zone.length > 64 || /^[+-]|^\d/.test(zone)) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** True if `zone` is an IANA time zone this runtime knows. */
export function isValidTimeZone(zone: string): boolean {
  return canonicalTimeZone(zone) !== null;
}

// Parsed patterns, reused: an alarm computes its due instants and next instant
// from the same expression, and thousands of jobs share a few expressions.
const parsed = new Map<string, Cron>();
const UTC_ZONES = new Set(["UTC", "Etc/UTC", "GMT", "Etc/GMT"]);
const PARSED_MAX = 1_000;

function build(expression: string, timezone: string): Cron {
  const key = `${timezone}\u0000${expression.trim()}`;
  let cron = parsed.get(key);
  if (!cron) {
    // A zone that is UTC all year goes to croner as an offset: the same instants, without an
    // Intl time-zone conversion in every step of its search (bench/RESULTS.md, issue 10).
    const zone = UTC_ZONES.has(timezone) ? { utcOffset: 0 } : { timezone };
    cron = new Cron(expression.trim(), { ...zone, paused: true, mode: "5-part" });
    if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, cron);
  }
  return cron;
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message.replace(/^CronPattern:\s*/, "") : String(error));

/**
 * Names the field at fault: croner's messages do not always say which one
 * ("illegal stepping: 0"), so each field is tried alone, the others `*`.
 */
function faultyField(fields: string[], timezone: string): string | null {
  for (const [i, value] of fields.entries()) {
    const probe = fields.map((f, j) => (j === i ? f : "*")).join(" ");
    try {
      build(probe, timezone);
    } catch (error) {
      const reason = reasonOf(error);
      // croner reports day and month values shifted by its zero-based offset; say the range instead.
      if (/^Invalid value for/.test(reason)) return `${FIELD_NAMES[i]} field "${value}" is out of range (allowed ${FIELD_RANGES[i]})`;
      return `${FIELD_NAMES[i]} field "${value}" is invalid (${reason})`;
    }
  }
  return null;
}

/**
 * Checks an expression and says which part is wrong. Refuses one that never
 * fires. `from` is where "never" starts (the service passes its clock).
 */
export function checkSchedule(expression: string, timezone: string, from: Date = new Date()): ScheduleCheck {
  const text = expression.trim();
  if (text.length === 0) return { ok: false, message: "cron_expression is empty" };
  if (text.length > MAX_CRON_LENGTH) {
    return { ok: false, message: `cron_expression is longer than ${MAX_CRON_LENGTH} characters` };
  }
  const fields = text.split(/\s+/);
  if (text.startsWith("@")) {
    if (!(MACROS as readonly string[]).includes(text.toLowerCase())) {
      return { ok: false, message: `cron_expression macro "${text}" is not one of ${MACROS.join(", ")}` };
    }
  } else if (fields.length !== 5) {
    return {
      ok: false,
      message: `cron_expression must have 5 fields (${FIELD_NAMES.join(" ")}), got ${fields.length}`,
    };
  }
  if (!isValidTimeZone(timezone)) return { ok: false, message: `timezone "${timezone}" is not a known IANA time zone` };
  let cron: Cron;
  try {
    cron = build(text, timezone);
  } catch (error) {
    const field = text.startsWith("@") ? null : faultyField(fields, timezone);
    return { ok: false, message: `cron_expression is invalid: ${field ?? reasonOf(error)}` };
  }
  // croner searches years ahead; nothing there means it never fires.
  if (cron.nextRun(from) === null) {
    return { ok: false, message: `cron_expression "${text}" never fires (no matching date exists)` };
  }
  return { ok: true };
}

/** The first instant strictly after `after`, or null if none. */
export function nextRunAfter(expression: string, timezone: string, after: Date): Date | null {
  return build(expression, timezone).nextRun(after);
}

/** The next `count` instants strictly after `after`. */
export function upcomingRuns(expression: string, timezone: string, after: Date, count: number): Date[] {
  return build(expression, timezone).nextRuns(count, after);
}

/** The latest instant at or before `at`, or null if none. */
export function latestRunAtOrBefore(expression: string, timezone: string, at: Date): Date | null {
  return build(expression, timezone).previousRuns(1, new Date(at.getTime() + 1))[0] ?? null;
}

/**
 * The instants in [from, to]: how many (counted up to `limit`: after a long
 * outage of a frequent job, "at least 100" is enough to say, and counting
 * them all would cost the alarm real CPU), the latest, and the first one after
 * `to`. It walks forward from `from`, so an alarm at its instant takes two
 * steps: the instant, then the next one.
 */
export function instantsBetween(
  expression: string,
  timezone: string,
  from: Date,
  to: Date,
  limit = 100,
): { count: number; latest: Date | null; next: Date | null } {
  const cron = build(expression, timezone);
  if (to.getTime() < from.getTime()) return { count: 0, latest: null, next: cron.nextRun(to) };
  let count = 0;
  let latest: Date | null = null;
  let cursor = cron.nextRun(new Date(from.getTime() - 1));
  while (cursor && cursor.getTime() <= to.getTime()) {
    if (count === limit) {
      // More than `limit`: the latest and the next are found from `to` instead.
      return { count, latest: cron.previousRuns(1, new Date(to.getTime() + 1))[0] ?? latest, next: cron.nextRun(to) };
    }
    count++;
    latest = cursor;
    cursor = cron.nextRun(cursor);
  }
  return { count, latest, next: cursor };
}
