import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { access, json } from "../openapi/operations";
import { HEALTH_ALERTS_SHOWN } from "../services/alerts-service";
import { checkHealth, OVERDUE_NAMES_SHOWN } from "../services/health-service";
import { AlertSchema } from "./schemas";

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
    alerts: z
      .object({
        open: z.number().int(),
        listed: z.array(AlertSchema).openapi({ description: `The newest ${HEALTH_ALERTS_SHOWN} open alerts` }),
      })
      .nullable()
      .openapi({ description: "Open alerts of jobs (docs/alerts.md): a job's trouble, not the service's, so never a 503 by itself; null when they cannot be read" }),
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
      alerts: { open: 0, listed: [] },
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

/** GET /health: public, for uptime monitors. 503 when storage is unreachable or jobs are overdue. */
export const healthRoutes = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: "get",
    path: "/health",
    operationId: "getHealth",
    ...access("public"),
    summary: "Service health: storage round trip, job counts, overdue jobs, last self-repair pass",
    responses: { 200: json(HealthSchema, "Healthy"), 503: json(HealthSchema, "Storage unreachable, jobs overdue, a bad setting, or delivery misconfigured") },
  }),
  async (c) => {
    const health = await checkHealth(c.env, c.var.db);
    c.header("Cache-Control", "no-store");
    return c.json(health, health.status === "ok" ? 200 : 503);
  },
);
