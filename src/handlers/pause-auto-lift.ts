import { applyEffects, parseInstant } from "./effects";
import { liftPauses, readAutoLiftCandidates } from "./platform-queries";
import type { JobHandler } from "./types";

type Candidates = Awaited<ReturnType<typeof readAutoLiftCandidates>>;

export interface LiftPlan {
  /** Open pauses whose auto_lift_at has passed. */
  checked: number;
  liftPauseIds: number[];
  /** Mentors of lifted pauses; each is reactivated only if no open pause remains. */
  liftMentorIds: string[];
  kept: number;
  errors: number;
}

type CertificationState = "valid" | "unknown" | "expired";
// A mentor's state is the worst of their certifications' states.
const severity: Record<CertificationState, number> = { valid: 0, unknown: 1, expired: 2 };

/** Per mentor: expired if any certification has expired; else unknown if any is unreadable. */
function certificationStates(
  certs: Candidates["mentorCertifications"],
  now: Date,
): Map<string, CertificationState> {
  const states = new Map<string, CertificationState>();
  for (const cert of certs) {
    const expiresAt = parseInstant(cert.expiresAt);
    const state: CertificationState =
      expiresAt === null ? "unknown" : expiresAt.getTime() <= now.getTime() ? "expired" : "valid";
    const previous = states.get(cert.mentorId) ?? "valid";
    states.set(cert.mentorId, severity[state] > severity[previous] ? state : previous);
  }
  return states;
}

/**
 * Pure: which due pauses to lift and which to keep.
 * A pause with an unreadable auto_lift_at is an error and not checked (it cannot
 * be known to be due). A due pause whose mentor has no expired certification
 * but an unreadable one is checked, counted as an error and left open: the
 * mentor is not reactivated on a certification nobody can read.
 * So pauses_checked = lifted + kept + (due pauses in error).
 */
export function planLifts(candidates: Candidates, now: Date): LiftPlan {
  const states = certificationStates(candidates.mentorCertifications, now);
  const plan: LiftPlan = { checked: 0, liftPauseIds: [], liftMentorIds: [], kept: 0, errors: 0 };
  const mentors = new Set<string>();

  for (const pause of candidates.openPauses) {
    const due = parseInstant(pause.autoLiftAt);
    if (due === null) {
      plan.errors++;
      continue;
    }
    if (due.getTime() > now.getTime()) continue;
    plan.checked++;
    const state = states.get(pause.mentorId) ?? "valid";
    if (state === "expired") plan.kept++;
    else if (state === "unknown") plan.errors++;
    else {
      plan.liftPauseIds.push(pause.pauseId);
      mentors.add(pause.mentorId);
    }
  }
  plan.liftMentorIds = [...mentors].sort();
  return plan;
}

/**
 * Lifts open pauses whose auto_lift_at has passed, unless the mentor still has
 * an expired certification (kept). A lifted mentor goes back to 'active' only
 * when no other pause of theirs is still open.
 *
 * Summary: `pauses_checked`, `lifted`, `kept`, `errors`. Reads once (one batch),
 * writes once; lifting is conditional on lifted_at IS NULL, so a rerun lifts nothing.
 */
export const liftExpiredPauses: JobHandler = async (ctx) => {
  const { db, now } = ctx;
  const plan = planLifts(await readAutoLiftCandidates(db), now);
  const summary = {
    pauses_checked: plan.checked,
    lifted: plan.liftPauseIds.length,
    kept: plan.kept,
    errors: plan.errors,
  };
  if (!ctx.dryRun) {
    await applyEffects(db, liftPauses(db, plan.liftPauseIds, plan.liftMentorIds, now.toISOString()));
  }
  return summary;
};
