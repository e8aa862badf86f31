import { REPORT_NOTIFICATION_KIND } from "../delivery/config";
import { addDays, parseInstant } from "../lib/instants";
import {
  countReportRows,
  readCertificationPage,
  readPausedMentorPage,
  readReportItems,
  reportExists,
  queueReportNotification,
  storeReport,
  storeReportItems,
  type OpenPause,
  type ReportItem,
  type ReportKey,
} from "../repositories/platform-repo";
import { chunkedHandler, PAGE_ROWS } from "./chunked";
import type { HandlerContext } from "./types";

export const REPORT_KIND = "weekly_expiry_summary";

/** Entries of each list kept in the report row itself; the full lists are rows of report_items. */
export const REPORT_LIST_HEAD = 100;
/** The stored body stays under this (D1 refuses a row over 1 MB). */
const REPORT_BODY_MAX_BYTES = 900_000;

const LISTS = ["expiring_7_days", "expiring_30_days", "paused_mentors", "unreadable_certifications"] as const;
type ListName = (typeof LISTS)[number];

export interface ExpiringCertification {
  mentor_id: string;
  name: string;
  certification_id: string;
  certification_name: string;
  expires_at: string;
}

export interface PausedMentor {
  mentor_id: string;
  name: string;
  open_pauses: OpenPause[];
}

export interface WeeklyReportBody {
  [key: string]: unknown;
  generated_at: string;
  /** Every list's full length. */
  counts: Record<ListName, number>;
  /**
   * The lists below hold their first entries only (at most REPORT_LIST_HEAD, in
   * order); the full lists are rows of the `report_items` table under this key.
   */
  full_lists: { table: "report_items"; kind: string; job_id: number; run_id: string };
  /** Not yet expired, expiring at or before generated_at + 7 days, soonest first. */
  expiring_7_days: ExpiringCertification[];
  /** Not yet expired, expiring at or before generated_at + 30 days (includes the 7-day ones). */
  expiring_30_days: ExpiringCertification[];
  /** By mentor id; a mentor paused by hand with no open pause row is listed with none. */
  paused_mentors: PausedMentor[];
  /** Certifications whose expires_at is not an instant; listed so someone fixes them. */
  unreadable_certifications: { certification_id: string; expires_at: string }[];
}

type Cursor = { phase: "certifications"; after: string } | { phase: "paused"; after: string } | { phase: "store" };

/** Pure: the report entries a page of certifications contributes at `now`. */
export function classifyCertifications(rows: Awaited<ReturnType<typeof readCertificationPage>>, now: Date): ReportItem[] {
  const in7 = addDays(now, 7).getTime();
  const in30 = addDays(now, 30).getTime();
  const items: ReportItem[] = [];
  for (const c of rows) {
    const expiresAt = parseInstant(c.expiresAt);
    if (expiresAt === null) {
      items.push({
        list: "unreadable_certifications",
        sortKey: c.certificationId,
        item: { certification_id: c.certificationId, expires_at: c.expiresAt },
      });
      continue;
    }
    const at = expiresAt.getTime();
    if (at <= now.getTime() || at > in30) continue;
    const entry: ExpiringCertification = {
      mentor_id: c.mentorId,
      name: c.mentorName,
      certification_id: c.certificationId,
      certification_name: c.certificationName,
      expires_at: expiresAt.toISOString(),
    };
    // Soonest first, then by id: the order the report lists them in.
    const sortKey = `${String(at).padStart(16, "0")}|${c.certificationId}`;
    items.push({ list: "expiring_30_days", sortKey, item: { ...entry } });
    if (at <= in7) items.push({ list: "expiring_7_days", sortKey, item: { ...entry } });
  }
  return items;
}

function tally(items: readonly ReportItem[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(LISTS.map((l) => [l, 0]));
  for (const i of items) counts[i.list]!++;
  return counts;
}

/** The report row: counts, and the head of each list trimmed until the body fits a D1 row. */
async function reportBody(ctx: HandlerContext, key: ReportKey, counts: Record<ListName, number>): Promise<WeeklyReportBody> {
  const heads = {} as Record<ListName, unknown[]>;
  for (const list of LISTS) {
    heads[list] = (await readReportItems(ctx.db, key, list, REPORT_LIST_HEAD)).map((r) => r.item);
  }
  const body = (): WeeklyReportBody => ({
    generated_at: ctx.now.toISOString(),
    counts,
    full_lists: { table: "report_items", kind: key.kind, job_id: key.jobId, run_id: key.runId },
    ...(heads as Pick<WeeklyReportBody, ListName>),
  });
  // Entries are short, so 4 x 100 of them fit; long free-text fields could still push it over.
  while (new TextEncoder().encode(JSON.stringify(body())).length > REPORT_BODY_MAX_BYTES) {
    for (const list of LISTS) heads[list] = heads[list].slice(0, Math.floor(heads[list].length / 2));
  }
  return body();
}

/**
 * Weekly: stores one `weekly_expiry_summary` report per run listing
 * certifications expiring within 7 and 30 days, the currently paused mentors
 * and unreadable certifications. Steps: pages of certifications (by id), then
 * pages of paused mentors (by id), each storing its entries as report_items
 * rows; then one step stores the report row (counts and the first entries).
 *
 * Summary: `expiring_7_days`, `expiring_30_days`, `paused_mentors`,
 * `unreadable_certifications`, `reports_stored` (1, or 0 when this run's
 * report exists already).
 */
export function weeklyExpiryReportHandler(pageRows = PAGE_ROWS) {
  return chunkedHandler<Cursor>(
    {
      zero: { expiring_7_days: 0, expiring_30_days: 0, paused_mentors: 0, unreadable_certifications: 0, reports_stored: 0 },
      count: (ctx) => countReportRows(ctx.db),
      async chunk(ctx, cursor, limit, soFar) {
        const { db, now } = ctx;
        const key: ReportKey = { kind: REPORT_KIND, jobId: ctx.jobId, runId: ctx.runId };
        const at = cursor ?? { phase: "certifications", after: "" };

        if (at.phase === "certifications") {
          const rows = await readCertificationPage(db, at.after, limit);
          const items = classifyCertifications(rows, now);
          return {
            counters: tally(items),
            processed: rows.length,
            next:
              rows.length < limit
                ? { phase: "paused", after: "" }
                : { phase: "certifications", after: rows[rows.length - 1]!.certificationId },
            effects: ctx.dryRun ? [] : storeReportItems(db, key, items),
          };
        }

        if (at.phase === "paused") {
          const rows = await readPausedMentorPage(db, at.after, limit);
          const items: ReportItem[] = rows.map((m) => ({
            list: "paused_mentors",
            sortKey: m.mentorId,
            item: { mentor_id: m.mentorId, name: m.name, open_pauses: m.openPauses },
          }));
          return {
            counters: { paused_mentors: rows.length },
            processed: rows.length,
            next: rows.length < limit ? { phase: "store" } : { phase: "paused", after: rows[rows.length - 1]!.mentorId },
            effects: ctx.dryRun ? [] : storeReportItems(db, key, items),
          };
        }

        // The last step: the counts so far are every list's length.
        const exists = await reportExists(db, key);
        const stored = { counters: { reports_stored: exists ? 0 : 1 }, processed: 0, next: null };
        if (ctx.dryRun || exists) return { ...stored, effects: [] };
        const counts = Object.fromEntries(LISTS.map((l) => [l, soFar[l] ?? 0])) as Record<ListName, number>;
        const body = await reportBody(ctx, key, counts);
        return {
          ...stored,
          effects: [
            ...storeReport(db, { ...key, jobName: ctx.jobName, generatedAt: body.generated_at, body }),
            // One notification per report, to the coordinators (REPORT_RECIPIENTS), in the same batch.
            ...queueReportNotification(db, {
              ...key,
              jobName: ctx.jobName,
              notificationKind: REPORT_NOTIFICATION_KIND,
              createdAt: body.generated_at,
              figures: counts,
            }),
          ],
        };
      },
    },
    pageRows,
  );
}

export const generateWeeklyExpiryReport = weeklyExpiryReportHandler();
