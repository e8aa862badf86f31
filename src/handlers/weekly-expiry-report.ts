import { addDays, applyEffects, parseInstant } from "./effects";
import { queueReportNotification, readWeeklyReportInputs, storeReport } from "./platform-queries";
import type { JobHandler } from "./types";

export const REPORT_KIND = "weekly_expiry_summary";

type Inputs = Awaited<ReturnType<typeof readWeeklyReportInputs>>;

interface ExpiringCertification {
  mentor_id: string;
  name: string;
  certification_id: string;
  certification_name: string;
  expires_at: string;
}

interface PausedMentor {
  mentor_id: string;
  name: string;
  open_pauses: { reason: string; paused_at: string; auto_lift_at: string | null }[];
}

export interface WeeklyReportBody {
  [key: string]: unknown;
  generated_at: string;
  /** Not yet expired, expiring at or before generated_at + 7 days. */
  expiring_7_days: ExpiringCertification[];
  /** Not yet expired, expiring at or before generated_at + 30 days (includes the 7-day ones). */
  expiring_30_days: ExpiringCertification[];
  paused_mentors: PausedMentor[];
  /** Certifications whose expires_at is not an instant; listed so someone fixes them. */
  unreadable_certifications: { certification_id: string; expires_at: string }[];
}

/** Pure: the report body for these inputs at `now`. */
export function buildWeeklyReport(inputs: Omit<Inputs, "reportExists">, now: Date): WeeklyReportBody {
  const in7 = addDays(now, 7).getTime();
  const in30 = addDays(now, 30).getTime();
  const expiring: { at: number; entry: ExpiringCertification }[] = [];
  const unreadable: WeeklyReportBody["unreadable_certifications"] = [];

  for (const c of inputs.allCertifications) {
    const expiresAt = parseInstant(c.expiresAt);
    if (expiresAt === null) {
      unreadable.push({ certification_id: c.certificationId, expires_at: c.expiresAt });
      continue;
    }
    const at = expiresAt.getTime();
    if (at <= now.getTime() || at > in30) continue;
    expiring.push({
      at,
      entry: {
        mentor_id: c.mentorId,
        name: c.mentorName,
        certification_id: c.certificationId,
        certification_name: c.certificationName,
        expires_at: expiresAt.toISOString(),
      },
    });
  }
  expiring.sort(
    (a, b) => a.at - b.at || a.entry.certification_id.localeCompare(b.entry.certification_id),
  );

  const paused = new Map<string, PausedMentor>();
  for (const row of inputs.pausedMentors) {
    const mentor = paused.get(row.mentorId) ?? { mentor_id: row.mentorId, name: row.name, open_pauses: [] };
    paused.set(row.mentorId, mentor);
    // A paused mentor with no open pause row (status set by hand) is still listed, with no reasons.
    if (row.reason !== null && row.pausedAt !== null) {
      mentor.open_pauses.push({ reason: row.reason, paused_at: row.pausedAt, auto_lift_at: row.autoLiftAt });
    }
  }

  return {
    generated_at: now.toISOString(),
    expiring_7_days: expiring.filter((e) => e.at <= in7).map((e) => e.entry),
    expiring_30_days: expiring.map((e) => e.entry),
    paused_mentors: [...paused.values()],
    unreadable_certifications: unreadable,
  };
}

/**
 * Weekly: stores one `weekly_expiry_summary` report per run id listing
 * certifications expiring within 7 and 30 days and the currently paused mentors.
 *
 * Summary: `expiring_7_days`, `expiring_30_days`, `paused_mentors`, `reports_stored`
 * (1, or 0 when a report for this run id already exists, e.g. a retried run).
 */
export const generateWeeklyExpiryReport: JobHandler = async (ctx) => {
  const { db, now } = ctx;
  const inputs = await readWeeklyReportInputs(db, REPORT_KIND, ctx.runId);
  const body = buildWeeklyReport(inputs, now);
  const summary = {
    expiring_7_days: body.expiring_7_days.length,
    expiring_30_days: body.expiring_30_days.length,
    paused_mentors: body.paused_mentors.length,
    reports_stored: inputs.reportExists ? 0 : 1,
  };
  // ON CONFLICT still guards a concurrent duplicate; skipping just saves the round trip.
  if (!ctx.dryRun && !inputs.reportExists) {
    await applyEffects(db, [
      ...storeReport(db, { kind: REPORT_KIND, runId: ctx.runId, generatedAt: body.generated_at, body }),
      // issue 12: one notification per report, to the coordinators (REPORT_RECIPIENTS), in the same batch.
      ...queueReportNotification(db, {
        reportKind: REPORT_KIND,
        runId: ctx.runId,
        jobName: ctx.jobName,
        createdAt: body.generated_at,
        figures: {
          expiring_7_days: summary.expiring_7_days,
          expiring_30_days: summary.expiring_30_days,
          paused_mentors: summary.paused_mentors,
          unreadable_certifications: body.unreadable_certifications.length,
        },
      }),
    ]);
  }
  return summary;
};
