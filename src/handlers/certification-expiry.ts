import { DAY_MS, parseInstant } from "../lib/instants";
import {
  countActiveMentors,
  countExistingDedupeKeys,
  pauseMentors,
  queueNotifications,
  readActiveMentorPage,
  type OutboxMessage,
} from "../repositories/platform-repo";
import { chunkedHandler, PAGE_ROWS } from "./chunked";

export const PAUSE_REASON_CERT_EXPIRED = "certification_expired";
export const REMINDER_KIND = "cert_expiry_reminder";
export const MENTOR_PAUSED_KIND = "mentor_paused";
/** Reminder windows in days, tightest first. */
export const REMINDER_WINDOWS = [1, 7, 30] as const;
export type ReminderWindow = (typeof REMINDER_WINDOWS)[number];

export function reminderDedupeKey(certificationId: string, window: ReminderWindow): string {
  return `cert-expiry-reminder:${certificationId}:${window}`;
}

/**
 * One notice per pause a certification's expiry caused: a certification
 * renewed and expiring again later has another expires_at, so another notice.
 */
export function mentorPausedDedupeKey(mentorId: string, certificationId: string, expiredAt: string): string {
  return `mentor-paused:${mentorId}:${certificationId}:${expiredAt}`;
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

type Row = Awaited<ReturnType<typeof readActiveMentorPage>>[number];

export interface ExpiryAssessment {
  mentorsChecked: number;
  expiredFound: number;
  /** Mentors with at least one expired certification, with their `mentor_paused` notice. */
  pauses: OutboxMessage[];
  /** Every reminder due now, before removing those already queued. */
  reminders: OutboxMessage[];
  /** Certifications that could not be assessed (an expires_at that is not an instant). */
  errors: number;
}

/** Pure: what the nightly check finds in these mentors (one page) at `now`. */
export function assessMentors(rows: readonly Row[], now: Date): ExpiryAssessment {
  const out: ExpiryAssessment = { mentorsChecked: rows.length, expiredFound: 0, pauses: [], reminders: [], errors: 0 };
  const nowIso = now.toISOString();

  for (const mentor of rows) {
    // The certification whose expiry pauses the mentor: the one that expired first.
    let cause: { id: string; name: string; at: Date } | null = null;
    for (const cert of mentor.certifications) {
      const expiresAt = parseInstant(cert.expires_at);
      if (expiresAt === null) {
        out.errors++;
        continue;
      }
      if (expiresAt.getTime() <= now.getTime()) {
        out.expiredFound++;
        const earlier = cause === null || expiresAt < cause.at || (+expiresAt === +cause.at && cert.id < cause.id);
        if (earlier) cause = { id: cert.id, name: cert.name, at: expiresAt };
        continue;
      }
      const window = reminderWindow(expiresAt, now);
      if (window === null) continue;
      out.reminders.push({
        kind: REMINDER_KIND,
        dedupeKey: reminderDedupeKey(cert.id, window),
        mentorId: mentor.mentorId,
        payload: {
          mentor_id: mentor.mentorId,
          email: mentor.email,
          certification_id: cert.id,
          certification_name: cert.name,
          expires_at: expiresAt.toISOString(),
          window_days: window,
        },
      });
    }
    if (cause === null) continue;
    const expiredAt = cause.at.toISOString();
    out.pauses.push({
      kind: MENTOR_PAUSED_KIND,
      dedupeKey: mentorPausedDedupeKey(mentor.mentorId, cause.id, expiredAt),
      mentorId: mentor.mentorId,
      payload: {
        mentor_id: mentor.mentorId,
        name: mentor.name,
        email: mentor.email,
        certification_id: cause.id,
        certification_name: cause.name,
        expired_at: expiredAt,
        paused_at: nowIso,
      },
    });
  }
  return out;
}

/**
 * Nightly: pauses active mentors with an expired certification (and queues a
 * `mentor_paused` notice for each) and queues one reminder per certification
 * and window for those expiring within 30 days. One page of active mentors
 * (by mentor_id) per step.
 *
 * Summary: `mentors_checked` (active mentors), `expired_found` (their expired
 * certifications), `auto_paused` (mentors paused), `reminders_sent` (reminders
 * newly queued by this run; ones already in the outbox do not count),
 * `errors` (bad rows, skipped). A second run the same day changes nothing.
 */
export function certificationExpiryHandler(pageRows = PAGE_ROWS) {
  return chunkedHandler<{ after: string }>(
    {
      zero: { mentors_checked: 0, expired_found: 0, auto_paused: 0, reminders_sent: 0, errors: 0 },
      count: (ctx) => countActiveMentors(ctx.db),
      async chunk(ctx, cursor, limit) {
        const { db, now } = ctx;
        const rows = await readActiveMentorPage(db, cursor?.after ?? null, limit);
        const found = assessMentors(rows, now);
        const alreadyQueued = await countExistingDedupeKeys(db, found.reminders.map((r) => r.dedupeKey));
        const nowIso = now.toISOString();
        return {
          counters: {
            mentors_checked: found.mentorsChecked,
            expired_found: found.expiredFound,
            auto_paused: found.pauses.length,
            reminders_sent: found.reminders.length - alreadyQueued,
            errors: found.errors,
          },
          processed: rows.length,
          next: rows.length < limit ? null : { after: rows[rows.length - 1]!.mentorId },
          effects: ctx.dryRun
            ? []
            : [
                ...pauseMentors(db, {
                  mentorIds: found.pauses.map((p) => p.mentorId),
                  reason: PAUSE_REASON_CERT_EXPIRED,
                  pausedAt: nowIso,
                  runId: ctx.runId,
                }),
                ...queueNotifications(db, [...found.pauses, ...found.reminders], nowIso, ctx),
              ],
        };
      },
    },
    pageRows,
  );
}

export const checkCertificationExpiry = certificationExpiryHandler();
