import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { createDb } from "../db/client";
import type { Env } from "../env";
import { clock } from "../lib/clock";
import { iso, isoMs } from "../lib/ids";
import { logEvent } from "../lib/log";
import { settingProblems } from "../lib/settings";
import { configuredKeys } from "../middleware/auth";
import { access } from "../openapi/operations";
import { countActiveMentors, listOverdueNames, pingStorage } from "../repositories/health-repo";
import { countActiveAndOverdue, countJobs } from "../repositories/jobs-repo";
import { deliveryConfig } from "../delivery/config";
import { countByStatus } from "../repositories/outbox-repo";

/** An active job whose next_run_at is older than this is overdue (its alarm did not fire). */
export const OVERDUE_AFTER_MS = 60_000;
const OVERDUE_NAMES_SHOWN = 10;

export const HealthSchema = z
  .object({
    status: z.enum(["ok", "failing"]).openapi({ description: '"failing" (HTTP 503) when storage is unreachable, jobs are overdue a setting is bad or delivery is misconfigured' }),
    checked_at: z.string(),
    problems: z.array(z.string()).openapi({ description: "What is wrong, in words; empty when status is ok" }),
    storage: z.object({
      reachable: z.boolean(),
      round_trip_ms: z.number().int().nullable(),
      error: z
        .object({ code: z.literal("storage_unreachable"), message: z.string() })
        .optional()
        .openapi({ description: "A stable code and a safe message; the database's own error text goes to the log only" }),
    }),
    settings: z
      .array(z.object({ setting: z.string(), message: z.string() }))
      .openapi({ description: "Settings that could not be read as written (named, never their values); each fails closed" }),
    jobs: z
      .object({
        total: z.number().int(),
        active: z.number().int(),
        overdue: z.number().int().openapi({ description: "Active jobs with next_run_at more than a minute in the past" }),
        overdue_job_names: z.array(z.string()).openapi({ description: `Up to ${OVERDUE_NAMES_SHOWN}, most overdue first` }),
      })
      .nullable(),
    last_self_repair_at: z.string().nullable().openapi({ description: "When the supervisor last finished a self-repair pass" }),
    platform: z
      .object({
        status: z.enum(["ok", "warning"]).openapi({
          description: '"warning" when the nightly check would find no active mentor (nothing imported yet?) or cannot read them; not a 503: the service itself is fine',
        }),
        active_mentors: z.number().int().nullable().openapi({ description: "null when the mentors table cannot be read" }),
        message: z.string().optional(),
      })
      .openapi({ description: "The platform data the built-in jobs act on (docs/platform-data.md)" }),
    delivery: z
      .object({
        channel: z.string().openapi({ description: 'How mentor notices go out (NOTIFY_CHANNEL): "email" or "webhook"' }),
        webhook: z.boolean().openapi({ description: "NOTIFY_WEBHOOK_URL is set: every message also goes there" }),
        email: z.boolean().openapi({ description: "The EMAIL binding and NOTIFY_FROM are both set" }),
        report_recipients: z.number().int(),
        alert_recipients: z.number().int(),
        problems: z.array(z.string()).openapi({ description: "Misconfiguration, exactly; while any is listed nothing is sent" }),
        notifications: z
          .object({ pending: z.number().int(), sending: z.number().int(), sent: z.number().int(), failed: z.number().int(), dead: z.number().int() })
          .nullable(),
      })
      .openapi({ description: "Notification delivery: its settings and the outbox by status" }),
  })
  .openapi("Health", {
    example: {
      status: "ok",
      checked_at: "2026-03-26T10:15:00Z",
      problems: [],
      storage: { reachable: true, round_trip_ms: 3 },
      settings: [],
      jobs: { total: 4, active: 3, overdue: 0, overdue_job_names: [] },
      last_self_repair_at: "2026-03-26T10:14:31Z",
      platform: { status: "ok", active_mentors: 87 },
      delivery: {
        channel: "webhook",
        webhook: true,
        email: true,
        report_recipients: 2,
        alert_recipients: 1,
        problems: [],
        notifications: { pending: 0, sending: 0, sent: 42, failed: 0, dead: 0 },
      },
    },
  });
export type Health = z.infer<typeof HealthSchema>;

async function lastSelfRepairAt(env: Env): Promise<string | null> {
  try {
    const pass = await env.SUPERVISOR.getByName("supervisor").lastPass();
    return pass ? iso(new Date(pass.at)) : null;
  } catch {
    return null; // the supervisor is not essential to answering; overdue jobs show its absence
  }
}

type StorageCheck =
  | { ok: true; roundTripMs: number; jobs: NonNullable<Health["jobs"]> }
  | { ok: false };

async function checkStorage(d1: D1Database, now: Date): Promise<StorageCheck> {
  try {
    const roundTripMs = await pingStorage(d1);
    const db = createDb(d1);
    const before = isoMs(now.getTime() - OVERDUE_AFTER_MS);
    const [total, counts, overdueNames] = await Promise.all([
      countJobs(db),
      countActiveAndOverdue(db, before),
      listOverdueNames(db, before, OVERDUE_NAMES_SHOWN),
    ]);
    return { ok: true, roundTripMs, jobs: { total, ...counts, overdue_job_names: overdueNames } };
  } catch (error) {
    // The raw text (SQL, binding names, internals) is for the log, not for a public page.
    logEvent("health.storage_error", { error: String(error), stack: (error as Error)?.stack }, "error");
    return { ok: false };
  }
}

/**
 * Whether the built-in jobs have anything to act on. A deployment whose
 * platform never imported (or never shared) its mentors would otherwise see a
 * nightly check of 0 mentors succeed every night; this says so from day one.
 */
async function checkPlatform(d1: D1Database): Promise<Health["platform"]> {
  const howTo = "import them (PUT /api/v1/scheduler/platform/mentors) or share the platform's database; see docs/platform-data.md";
  try {
    const active = await countActiveMentors(createDb(d1));
    if (active > 0) return { status: "ok", active_mentors: active };
    return { status: "warning", active_mentors: 0, message: `0 active mentors: the nightly certification check has nothing to check; ${howTo}.` };
  } catch (error) {
    // D1's own text stays in the log (issue 14: nothing raw on the public side).
    logEvent("health.platform_unreadable", { error: String(error) }, "warn");
    return { status: "warning", active_mentors: null, message: `The mentors table cannot be read (the details are in the service's log); ${howTo}.` };
  }
}

/** The health of the service, from D1 and the supervisor. Never throws. */
export async function checkHealth(env: Env): Promise<Health> {
  const now = clock.now();
  const config = deliveryConfig(env);
  const [storage, lastRepair, platform, notifications] = await Promise.all([
    checkStorage(env.DB, now),
    lastSelfRepairAt(env),
    checkPlatform(env.DB),
    countByStatus(createDb(env.DB)).catch(() => null),
  ]);
  const problems: string[] = [];
  if (!storage.ok) problems.push("storage (D1) is unreachable (the details are in the service's log)");
  else if (storage.jobs.overdue > 0) {
    problems.push(
      `${storage.jobs.overdue} active job(s) overdue (next_run_at more than ${OVERDUE_AFTER_MS / 1000} s in the past): ` +
        storage.jobs.overdue_job_names.join(", "),
    );
  }
  const settings = settingProblems(env, configuredKeys(env).problems);
  for (const bad of settings) problems.push(`setting ${bad.setting}: ${bad.message}`);
  for (const problem of config.problems) problems.push(`delivery: ${problem}`);
  return {
    status: problems.length === 0 ? "ok" : "failing",
    checked_at: iso(now),
    problems,
    storage: storage.ok
      ? { reachable: true, round_trip_ms: storage.roundTripMs }
      : { reachable: false, round_trip_ms: null, error: { code: "storage_unreachable" as const, message: "The database did not answer." } },
    settings,
    jobs: storage.ok ? storage.jobs : null,
    last_self_repair_at: lastRepair,
    platform,
    delivery: {
      channel: config.channel,
      webhook: config.webhook !== null,
      email: config.email !== null,
      report_recipients: config.reportRecipients.length,
      alert_recipients: config.alertRecipients.length,
      problems: config.problems,
      notifications,
    },
  };
}

const json = (description: string) => ({ content: { "application/json": { schema: HealthSchema } }, description });

/** GET /health: public, for uptime monitors. 503 when storage is unreachable or jobs are overdue. */
export const healthRoutes = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: "get",
    path: "/health",
    operationId: "getHealth",
    ...access("public"),
    summary: "Service health: storage round trip, job counts, overdue jobs, last self-repair pass",
    responses: { 200: json("Healthy"), 503: json("Storage unreachable, jobs overdue, a bad setting, or delivery misconfigured") },
  }),
  async (c) => {
    const health = await checkHealth(c.env);
    c.header("Cache-Control", "no-store");
    return c.json(health, health.status === "ok" ? 200 : 503);
  },
);
