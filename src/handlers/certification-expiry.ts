import { applyEffects, DAY_MS, parseInstant } from "./effects";
import {
  pauseMentors,
  queueNotifications,
  readActiveMentorCertifications,
  readExistingDedupeKeys,
  type OutboxMessage,
} from "./platform-queries";
import type { JobHandler } from "./types";

export const PAUSE_REASON_CERT_EXPIRED = "certification_expired";
export const REMINDER_KIND = "cert_expiry_reminder";
/** Reminder windows in days, tightest first. */
export const REMINDER_WINDOWS = [1, 7, 30] as const;
export type ReminderWindow = (typeof REMINDER_WINDOWS)[number];

export function reminderDedupeKey(certificationId: string, window: ReminderWindow): string {
  return `cert-expiry-reminder:${certificationId}:${window}`;
}

/**
 * The tightest reminder window a certification that has not expired yet is in,
 * or null when it expires more than 30 days from now. Only that window is
 * reminded: a certification first seen at 5 days out gets the 7-day reminder,
 * never a late 30-day one.
 */
export function reminderWindow(expiresAt: Date, now: Date): ReminderWindow | null {
  const left = expiresAt.getTime() - now.getTime();
  if (left <= 0) return null;
  return REMINDER_WINDOWS.find((days) => left <= days * DAY_MS) ?? null;
}

type Row = Awaited<ReturnType<typeof readActiveMentorCertifications>>[number];

export interface ExpiryAssessment {
  mentorsChecked: number;
  expiredFound: number;
  /** Mentors with at least one expired certification. */
  mentorsToPause: string[];
  /** Every reminder due now, before removing those already queued. */
  reminders: OutboxMessage[];
  /** Rows that could not be assessed (an expires_at that is not an instant). */
  errors: number;
}

/** Pure: what the nightly check finds in these rows at `now`. */
export function assessCertifications(rows: readonly Row[], now: Date): ExpiryAssessment {
  const checked = new Set<string>();
  const toPause = new Set<string>();
  const reminders: OutboxMessage[] = [];
  let expiredFound = 0;
  let errors = 0;

  for (const row of rows) {
    checked.add(row.mentorId);
    if (row.certificationId === null) continue; // a mentor without certifications
    const expiresAt = parseInstant(row.expiresAt);
    if (expiresAt === null) {
      errors++;
      continue;
    }
    if (expiresAt.getTime() <= now.getTime()) {
      expiredFound++;
      toPause.add(row.mentorId);
      continue;
    }
    const window = reminderWindow(expiresAt, now);
    if (window === null) continue;
    reminders.push({
      dedupeKey: reminderDedupeKey(row.certificationId, window),
      mentorId: row.mentorId,
      payload: {
        mentor_id: row.mentorId,
        email: row.email,
        certification_id: row.certificationId,
        certification_name: row.certificationName,
        expires_at: expiresAt.toISOString(),
        window_days: window,
      },
    });
  }

  return {
    mentorsChecked: checked.size,
    expiredFound,
    mentorsToPause: [...toPause].sort(),
    reminders,
    errors,
  };
}

/**
 * Nightly: pauses active mentors with an expired certification and queues one
 * reminder per certification and window for those expiring within 30 days.
 *
 * Summary: `mentors_checked` (active mentors), `expired_found` (their expired
 * certifications), `auto_paused` (mentors paused), `reminders_sent` (reminders
 * newly queued; ones already in the outbox do not count), `errors` (bad rows,
 * skipped). Reads twice, writes once; a second run the same day changes nothing.
 */
export const checkCertificationExpiry: JobHandler = async (ctx) => {
  const { db, now } = ctx;
  const assessment = assessCertifications(await readActiveMentorCertifications(db), now);
  const alreadyQueued = await readExistingDedupeKeys(
    db,
    assessment.reminders.map((r) => r.dedupeKey),
  );
  const newReminders = assessment.reminders.filter((r) => !alreadyQueued.has(r.dedupeKey));

  const summary = {
    mentors_checked: assessment.mentorsChecked,
    expired_found: assessment.expiredFound,
    auto_paused: assessment.mentorsToPause.length,
    reminders_sent: newReminders.length,
    errors: assessment.errors,
  };
  if (ctx.dryRun) return summary;

  const nowIso = now.toISOString();
  await applyEffects(db, [
    ...pauseMentors(db, {
      mentorIds: assessment.mentorsToPause,
      reason: PAUSE_REASON_CERT_EXPIRED,
      pausedAt: nowIso,
      runId: ctx.runId,
    }),
    ...queueNotifications(db, REMINDER_KIND, newReminders, nowIso, ctx.runId, ctx.jobName),
  ]);
  return summary;
};
