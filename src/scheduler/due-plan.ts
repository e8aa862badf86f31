import { instantsBetween, nextRunAfter, upcomingRuns } from "../cron/schedule";
import { logEvent } from "../lib/log";

/**
 * How late an instant may be and still count as on time. Alarms are normally
 * a few ms late; the platform may delay one by up to about a minute in a failover.
 */
export const ON_TIME_GRACE_MS = 60_000;

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

export interface DuePolicy {
  cronExpression: string;
  timezone: string;
  misfirePolicy: "run_once" | "skip";
  catchupWindowSeconds: number;
}

export interface DuePlan {
  /** The instant to run now, if any. */
  run: { scheduledFor: Date; catchUp: boolean } | null;
  /** An instant recorded as skipped because it was missed and the policy says so. */
  skipped: { scheduledFor: Date; reason: string } | null;
  /** How many instants were missed (not run on time), counted up to 100. */
  missed: number;
  /** The next instant strictly after `now`. Never in the past: no catch-up storm. */
  next: Date | null;
}

/**
 * Decides what an alarm does when the stored `nextRunAt` has come.
 *
 * - The latest due instant, if it is within the grace period, runs as usual.
 * - Instants missed before it (the service was down, or the alarm late) are
 *   covered by that one run, flagged as a catch-up.
 * - If nothing is on time: `run_once` runs once for the latest missed instant,
 *   if it is within `catchupWindowSeconds`; `skip` records it as skipped.
 */
export function planDue(policy: DuePolicy, nextRunAt: Date, now: Date, upcoming?: Date[]): DuePlan {
  // The usual case, in one croner call instead of four (it is on the alarm's
  // hot path): the stored instant is a real instant, has come, is on time,
  // and is the only one due. `upcoming` is that call made ahead of time
  // (while the object waited for the instant): upcomingAt(policy, nextRunAt).
  const [first, second] = upcoming ?? upcomingAt(policy, nextRunAt);
  if (
    first?.getTime() === nextRunAt.getTime() &&
    now.getTime() >= nextRunAt.getTime() &&
    now.getTime() - nextRunAt.getTime() <= ON_TIME_GRACE_MS &&
    (second === undefined || second.getTime() > now.getTime())
  ) {
    return { run: { scheduledFor: nextRunAt, catchUp: false }, skipped: null, missed: 0, next: second ?? null };
  }
  return planDueInFull(policy, nextRunAt, now);
}

/** The two instants from `nextRunAt` on (itself first, if it is one): what planDue's shortcut needs. */
export function upcomingAt(policy: Pick<DuePolicy, "cronExpression" | "timezone">, nextRunAt: Date | number): Date[] {
  return upcomingRuns(policy.cronExpression, policy.timezone, new Date(new Date(nextRunAt).getTime() - 1), 2);
}

/** planDue without the shortcut for the usual case (exported so tests can hold the two equal). */
export function planDueInFull(policy: DuePolicy, nextRunAt: Date, now: Date): DuePlan {
  const next = nextRunAfter(policy.cronExpression, policy.timezone, now);
  const due = instantsBetween(policy.cronExpression, policy.timezone, nextRunAt, now);
  if (due.count === 0 || !due.latest) return { run: null, skipped: null, missed: 0, next };

  const latest = due.latest;
  const onTime = now.getTime() - latest.getTime() <= ON_TIME_GRACE_MS;
  const missed = onTime ? due.count - 1 : due.count;

  if (onTime) {
    const catchUp = missed > 0 && policy.misfirePolicy === "run_once";
    return { run: { scheduledFor: latest, catchUp }, skipped: null, missed, next };
  }
  const lateSeconds = Math.round((now.getTime() - latest.getTime()) / 1000);
  if (policy.misfirePolicy === "skip") {
    const reason = `missed ${missed} scheduled instant(s), the latest ${lateSeconds}s ago; misfire_policy is "skip"`;
    return { run: null, skipped: { scheduledFor: latest, reason }, missed, next };
  }
  if (now.getTime() - latest.getTime() > policy.catchupWindowSeconds * 1000) {
    const reason = `missed ${missed} scheduled instant(s), the latest ${lateSeconds}s ago, beyond catchup_window_seconds=${policy.catchupWindowSeconds}`;
    return { run: null, skipped: { scheduledFor: latest, reason }, missed, next };
  }
  return { run: { scheduledFor: latest, catchUp: true }, skipped: null, missed, next };
}
