import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { createDb } from "../db/client";
import type { Env } from "../env";
import { clock } from "../lib/clock";
import { iso, isoMs } from "../lib/ids";
import { listOverdueNames, pingStorage } from "../repositories/health-repo";
import { countActiveAndOverdue, countJobs } from "../repositories/jobs-repo";
import { deliveryConfig } from "../delivery/config";
import { countByStatus } from "../repositories/outbox-repo";

/** An active job whose next_run_at is older than this is overdue (its alarm did not fire). */
export const OVERDUE_AFTER_MS = 60_000;
const OVERDUE_NAMES_SHOWN = 10;

export const HealthSchema = z
  .object({
    status: z.enum(["ok", "failing"]).openapi({ description: '"failing" (HTTP 503) when storage is unreachable, jobs are overdue or delivery is misconfigured' }),
    checked_at: z.string(),
    problems: z.array(z.string()).openapi({ description: "What is wrong, in words; empty when status is ok" }),
    storage: z.object({
      reachable: z.boolean(),
      round_trip_ms: z.number().int().nullable(),
      error: z.string().optional(),
    }),
    jobs: z
      .object({
        total: z.number().int(),
        active: z.number().int(),
        overdue: z.number().int().openapi({ description: "Active jobs with next_run_at more than a minute in the past" }),
        overdue_job_names: z.array(z.string()).openapi({ description: `Up to ${OVERDUE_NAMES_SHOWN}, most overdue first` }),
      })
      .nullable(),
    last_self_repair_at: z.string().nullable().openapi({ description: "When the supervisor last finished a self-repair pass" }),
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
      jobs: { total: 4, active: 3, overdue: 0, overdue_job_names: [] },
      last_self_repair_at: "2026-03-26T10:14:31Z",
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
  | { ok: false; error: string };

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
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** The health of the service, from D1 and the supervisor. Never throws. */
export async function checkHealth(env: Env): Promise<Health> {
  const now = clock.now();
  const config = deliveryConfig(env);
  const [storage, lastRepair, notifications] = await Promise.all([
    checkStorage(env.DB, now),
    lastSelfRepairAt(env),
    countByStatus(createDb(env.DB)).catch(() => null),
  ]);
  const problems: string[] = [];
  if (!storage.ok) problems.push(`storage (D1) is unreachable: ${storage.error}`);
  else if (storage.jobs.overdue > 0) {
    problems.push(
      `${storage.jobs.overdue} active job(s) overdue (next_run_at more than ${OVERDUE_AFTER_MS / 1000} s in the past): ` +
        storage.jobs.overdue_job_names.join(", "),
    );
  }
  for (const problem of config.problems) problems.push(`delivery: ${problem}`);
  return {
    status: problems.length === 0 ? "ok" : "failing",
    checked_at: iso(now),
    problems,
    storage: storage.ok ? { reachable: true, round_trip_ms: storage.roundTripMs } : { reachable: false, round_trip_ms: null, error: storage.error },
    jobs: storage.ok ? storage.jobs : null,
    last_self_repair_at: lastRepair,
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
    summary: "Service health: storage round trip, job counts, overdue jobs, last self-repair pass",
    responses: { 200: json("Healthy"), 503: json("Storage unreachable, jobs overdue, or delivery misconfigured") },
  }),
  async (c) => {
    const health = await checkHealth(c.env);
    c.header("Cache-Control", "no-store");
    return c.json(health, health.status === "ok" ? 200 : 503);
  },
);
