import { instantsBetween } from "../cron/schedule";

/**
 * How late an instant may be and still count as on time. Alarms are normally
 * a few ms late; the platform may delay one by up to about a minute in a failover.
 */
export const ON_TIME_GRACE_MS = 60_000;

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
export function planDue(policy: DuePolicy, nextRunAt: Date, now: Date): DuePlan {
  const due = instantsBetween(policy.cronExpression, policy.timezone, nextRunAt, now);
  const next = due.next;
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
