import type { Db } from "../db/client";
import { createDb } from "../db/client";
import { deliveryConfig } from "../delivery/config";
import type { Env } from "../env";
import { clock } from "../lib/clock";
import { iso, isoMs } from "../lib/instants";
import { logEvent } from "../lib/log";
import { settingProblems } from "../lib/settings";
import { configuredKeys } from "../middleware/auth";
import { countActiveMentors, listOverdueNames, pingStorage } from "../repositories/health-repo";
import { countActiveAndOverdue, countJobs } from "../repositories/jobs-repo";
import { countByStatus } from "../repositories/outbox-repo";
import { openAlertsForHealth } from "./alerts-service";

/** An active job whose next_run_at is older than this is overdue (its alarm did not fire). */
export const OVERDUE_AFTER_MS = 60_000;
export const OVERDUE_NAMES_SHOWN = 10;

// The health answer is a composition of sections: each reads one thing, never
// throws, returns its top-level fields and, where it can fail the answer, its
// `problems` in words. A new part of the answer is one more section function.

async function storageSection(db: Db, now: Date) {
  try {
    const roundTripMs = await pingStorage(db);
    const before = isoMs(now.getTime() - OVERDUE_AFTER_MS);
    const [total, counts, overdueNames] = await Promise.all([
      countJobs(db),
      countActiveAndOverdue(db, before),
      listOverdueNames(db, before, OVERDUE_NAMES_SHOWN),
    ]);
    const jobs = { total, ...counts, overdue_job_names: overdueNames };
    const problems =
      jobs.overdue > 0
        ? [`${jobs.overdue} active job(s) overdue (next_run_at more than ${OVERDUE_AFTER_MS / 1000} s in the past): ` + overdueNames.join(", ")]
        : [];
    return { storage: { reachable: true, round_trip_ms: roundTripMs }, jobs, problems };
  } catch (error) {
    // The raw text (SQL, binding names, internals) is for the log, not for a public page.
    logEvent("health.storage_error", { error: String(error), stack: (error as Error)?.stack }, "error");
    return {
      storage: {
        reachable: false,
        round_trip_ms: null,
        error: { code: "storage_unreachable" as const, message: "The database did not answer." },
      },
      jobs: null,
      problems: ["storage (D1) is unreachable (the details are in the service's log)"],
    };
  }
}

function settingsSection(env: Env) {
  const settings = settingProblems(env, configuredKeys(env).problems);
  return { settings, problems: settings.map((bad) => `setting ${bad.setting}: ${bad.message}`) };
}

async function selfRepairSection(env: Env): Promise<{ last_self_repair_at: string | null }> {
  try {
    const pass = await env.SUPERVISOR.getByName("supervisor").lastPass();
    return { last_self_repair_at: pass ? iso(new Date(pass.at)) : null };
  } catch {
    return { last_self_repair_at: null }; // the supervisor is not essential to answering; overdue jobs show its absence
  }
}

/**
 * Whether the built-in jobs have anything to act on. A deployment whose
 * platform never imported (or never shared) its mentors would otherwise see a
 * nightly check of 0 mentors succeed every night; this says so from day one.
 * A warning, not a problem: the service itself is fine.
 */
async function platformSection(db: Db) {
  const howTo = "import them (PUT /api/v1/scheduler/platform/mentors) or share the platform's database; see docs/platform-data.md";
  try {
    const active = await countActiveMentors(db);
    if (active > 0) return { platform: { status: "ok" as const, active_mentors: active } };
    return {
      platform: { status: "warning" as const, active_mentors: 0, message: `0 active mentors: the nightly certification check has nothing to check; ${howTo}.` },
    };
  } catch (error) {
    // D1's own text stays in the log (issue 14: nothing raw on the public side).
    logEvent("health.platform_unreadable", { error: String(error) }, "warn");
    return {
      platform: {
        status: "warning" as const,
        active_mentors: null,
        message: `The mentors table cannot be read (the details are in the service's log); ${howTo}.`,
      },
    };
  }
}

async function deliverySection(env: Env, db: Db) {
  const config = deliveryConfig(env);
  const notifications = await countByStatus(db).catch(() => null);
  return {
    delivery: {
      channel: config.channel,
      webhook: config.webhook !== null,
      email: config.email !== null,
      report_recipients: config.reportRecipients.length,
      alert_recipients: config.alertRecipients.length,
      problems: config.problems,
      notifications,
    },
    problems: config.problems.map((problem) => `delivery: ${problem}`),
  };
}

/** Open alerts of jobs (issue 13): a job's trouble, not the service's, so never a problem here. */
async function alertsSection(db: Db) {
  return { alerts: await openAlertsForHealth(db).catch(() => null) };
}

/**
 * The health of the service, from D1 and the supervisor. Never throws.
 * `db` is the request's handle; without one (a caller outside a request) it is built over env.DB.
 */
export async function checkHealth(env: Env, db: Db = createDb(env.DB)) {
  const now = clock.now();
  const settings = settingsSection(env);
  const [storage, selfRepair, platform, delivery, alerts] = await Promise.all([
    storageSection(db, now),
    selfRepairSection(env),
    platformSection(db),
    deliverySection(env, db),
    alertsSection(db),
  ]);
  const problems = [storage, settings, delivery].flatMap((section) => section.problems);
  return {
    status: problems.length === 0 ? ("ok" as const) : ("failing" as const),
    checked_at: iso(now),
    problems,
    storage: storage.storage,
    settings: settings.settings,
    jobs: storage.jobs,
    last_self_repair_at: selfRepair.last_self_repair_at,
    platform: platform.platform,
    alerts: alerts.alerts,
    delivery: delivery.delivery,
  };
}
