import { parseInstant } from "../lib/instants";
import {
  countOpenAutoLiftPauses,
  liftPauses,
  queueNotifications,
  readOpenAutoLiftPage,
  type OutboxMessage,
} from "../repositories/platform-repo";
import { chunkedHandler, PAGE_ROWS } from "./chunked";

export const PAUSE_LIFTED_KIND = "pause_lifted";

export function pauseLiftedDedupeKey(pauseId: number): string {
  return `pause-lifted:${pauseId}`;
}

type Row = Awaited<ReturnType<typeof readOpenAutoLiftPage>>[number];

export interface LiftPlan {
  /** Open pauses whose auto_lift_at has passed. */
  checked: number;
  liftPauseIds: number[];
  /** Mentors of lifted pauses; each is reactivated only if no open pause remains. */
  liftMentorIds: string[];
  /** One `pause_lifted` notice per lifted pause. */
  notices: OutboxMessage[];
  kept: number;
  errors: number;
}

type CertificationState = "valid" | "unknown" | "expired";

/** A mentor's state is the worst of their certifications': expired, else unknown if any is unreadable. */
function certificationState(expiries: readonly string[], now: Date): CertificationState {
  let state: CertificationState = "valid";
  for (const value of expiries) {
    const expiresAt = parseInstant(value);
    if (expiresAt === null) state = "unknown";
    else if (expiresAt.getTime() <= now.getTime()) return "expired";
  }
  return state;
}

/**
 * Pure: which due pauses of this page to lift and which to keep.
 * A pause with an unreadable auto_lift_at is an error and not checked (it cannot
 * be known to be due). A due pause whose mentor has no expired certification
 * but an unreadable one is checked, counted as an error and left open: the
 * mentor is not reactivated on a certification nobody can read.
 * So pauses_checked = lifted + kept + (due pauses in error).
 */
export function planLifts(rows: readonly Row[], now: Date): LiftPlan {
  const plan: LiftPlan = { checked: 0, liftPauseIds: [], liftMentorIds: [], notices: [], kept: 0, errors: 0 };
  const mentors = new Set<string>();
  const liftedAt = now.toISOString();

  for (const pause of rows) {
    const due = parseInstant(pause.autoLiftAt);
    if (due === null) {
      plan.errors++;
      continue;
    }
    if (due.getTime() > now.getTime()) continue;
    plan.checked++;
    const state = certificationState(pause.expiries, now);
    if (state === "expired") plan.kept++;
    else if (state === "unknown") plan.errors++;
    else {
      plan.liftPauseIds.push(pause.pauseId);
      mentors.add(pause.mentorId);
      plan.notices.push({
        kind: PAUSE_LIFTED_KIND,
        dedupeKey: pauseLiftedDedupeKey(pause.pauseId),
        mentorId: pause.mentorId,
        payload: {
          mentor_id: pause.mentorId,
          name: pause.name,
          email: pause.email,
          pause_id: pause.pauseId,
          reason: pause.reason,
          paused_at: pause.pausedAt,
          lifted_at: liftedAt,
        },
      });
    }
  }
  plan.liftMentorIds = [...mentors].sort();
  return plan;
}

/**
 * Lifts open pauses whose auto_lift_at has passed, unless the mentor still has
 * an expired certification (kept), and queues a `pause_lifted` notice for each.
 * A lifted mentor goes back to 'active' only when no other pause of theirs is
 * still open (also when that pause is lifted by a later step of the same run).
 * One page of open auto-lift pauses (by pause_id) per step.
 *
 * Summary: `pauses_checked`, `lifted`, `kept`, `errors`. Lifting is
 * conditional on lifted_at IS NULL, so a rerun lifts nothing.
 */
export function pauseAutoLiftHandler(pageRows = PAGE_ROWS) {
  return chunkedHandler<{ after: number }>(
    {
      zero: { pauses_checked: 0, lifted: 0, kept: 0, errors: 0 },
      count: (ctx) => countOpenAutoLiftPauses(ctx.db),
      async chunk(ctx, cursor, limit) {
        const { db, now } = ctx;
        const rows = await readOpenAutoLiftPage(db, cursor?.after ?? 0, limit);
        const plan = planLifts(rows, now);
        const nowIso = now.toISOString();
        return {
          counters: { pauses_checked: plan.checked, lifted: plan.liftPauseIds.length, kept: plan.kept, errors: plan.errors },
          processed: rows.length,
          next: rows.length < limit ? null : { after: rows[rows.length - 1]!.pauseId },
          effects: ctx.dryRun
            ? []
            : [
                ...liftPauses(db, plan.liftPauseIds, plan.liftMentorIds, nowIso),
                ...queueNotifications(db, plan.notices, nowIso, ctx),
              ],
        };
      },
    },
    pageRows,
  );
}

export const liftExpiredPauses = pauseAutoLiftHandler();
