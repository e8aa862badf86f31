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

export type ScheduleCheck = { ok: true } | { ok: false; message: string };

/** True if `zone` is an IANA time zone this runtime knows. */
export function isValidTimeZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function build(expression: string, timezone: string): Cron {
  return new Cron(expression.trim(), { timezone, paused: true, mode: "5-part" });
}

/** Checks an expression and says which part is wrong. Refuses one that never fires. */
export function checkSchedule(expression: string, timezone: string): ScheduleCheck {
  const text = expression.trim();
  if (text.length === 0) return { ok: false, message: "cron_expression is empty" };
  if (expression.length > MAX_CRON_LENGTH) {
    return { ok: false, message: `cron_expression is longer than ${MAX_CRON_LENGTH} characters` };
  }
  if (text.startsWith("@")) {
    if (!(MACROS as readonly string[]).includes(text.toLowerCase())) {
      return { ok: false, message: `cron_expression macro "${text}" is not one of ${MACROS.join(", ")}` };
    }
  } else {
    const fields = text.split(/\s+/);
    if (fields.length !== 5) {
      return {
        ok: false,
        message: `cron_expression must have 5 fields (${FIELD_NAMES.join(" ")}), got ${fields.length}`,
      };
    }
  }
  if (!isValidTimeZone(timezone)) return { ok: false, message: `timezone "${timezone}" is not a known IANA time zone` };
  let cron: Cron;
  try {
    cron = build(text, timezone);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern:\s*/, "") : String(error);
    return { ok: false, message: `cron_expression is invalid: ${reason}` };
  }
  // croner searches up to several years ahead; nothing there means it never fires.
  if (cron.nextRun(new Date()) === null) {
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

/**
 * The instants in [from, to]: how many (counted up to `limit`) and the latest.
 */
export function instantsBetween(
  expression: string,
  timezone: string,
  from: Date,
  to: Date,
  limit = 1_000,
): { count: number; latest: Date | null } {
  if (to.getTime() < from.getTime()) return { count: 0, latest: null };
  const cron = build(expression, timezone);
  const [latest] = cron.previousRuns(1, new Date(to.getTime() + 1));
  if (!latest || latest.getTime() < from.getTime()) return { count: 0, latest: null };
  let count = 0;
  let cursor: Date | null = new Date(from.getTime() - 1);
  while (count < limit) {
    cursor = cron.nextRun(cursor);
    if (!cursor || cursor.getTime() > to.getTime()) break;
    count++;
  }
  return { count, latest };
}
