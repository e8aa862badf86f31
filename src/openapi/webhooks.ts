import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { REMINDER_WINDOWS, type ReminderWindow } from "../handlers/certification-expiry";
import { REPORT_KIND } from "../handlers/weekly-expiry-report";

/**
 * What this service sends: the OpenAPI 3.1 `webhooks` section, one entry per event
 * type, each a POST of `{type, timestamp, data}` signed as Standard Webhooks
 * (src/delivery/webhook.ts). `data` is the outbox row's payload as the handler wrote it,
 * with `notification_id` added (src/delivery/deliver.ts). test/openapi.test.ts checks
 * these schemas against what the handlers really send, field for field.
 */

const Instant = (description: string) => z.string().openapi({ description: `${description} (ISO-8601 UTC)`, example: "2031-01-10T02:00:00.000Z" });
const NotificationId = z.string().openapi({ description: "The outbox row's stable id; the same as the webhook-id header", example: "ntf_12" });

export const CertExpiryReminderData = z
  .object({
    notification_id: NotificationId,
    mentor_id: z.string(),
    email: z.string(),
    certification_id: z.string(),
    certification_name: z.string(),
    expires_at: Instant("When the certification expires"),
    window_days: z
      .union(REMINDER_WINDOWS.map((days) => z.literal(days)) as [z.ZodLiteral<ReminderWindow>, ...z.ZodLiteral<ReminderWindow>[]])
      .openapi({ description: "Which reminder this is: the expiry is at most this many days away" }),
  })
  .openapi("CertExpiryReminderData");

export const MentorPausedData = z
  .object({
    notification_id: NotificationId,
    mentor_id: z.string(),
    name: z.string(),
    email: z.string(),
    certification_id: z.string().openapi({ description: "The expired certification that caused the pause (the first to expire)" }),
    certification_name: z.string(),
    expired_at: Instant("When that certification expired"),
    paused_at: Instant("When the run paused the mentor"),
  })
  .openapi("MentorPausedData");

export const PauseLiftedData = z
  .object({
    notification_id: NotificationId,
    mentor_id: z.string(),
    name: z.string(),
    email: z.string(),
    pause_id: z.number().int(),
    reason: z.string().openapi({ description: "The pause's reason as the platform stored it" }),
    paused_at: z.string().openapi({ description: "When the pause began, as the platform stored it" }),
    lifted_at: Instant("When the run lifted the pause"),
  })
  .openapi("PauseLiftedData");

export const WeeklyExpiryReportData = z
  .object({
    notification_id: NotificationId,
    report_id: z.number().int().openapi({ description: "GET /api/v1/scheduler/reports/{id} reads the whole report" }),
    report_kind: z.literal(REPORT_KIND),
    run_id: z.string(),
    job_name: z.string(),
    generated_at: Instant("When the run generated the report"),
    expiring_7_days: z.number().int().openapi({ description: "Certifications expiring within 7 days" }),
    expiring_30_days: z.number().int().openapi({ description: "Certifications expiring within 30 days (the 7-day ones included)" }),
    paused_mentors: z.number().int(),
    unreadable_certifications: z.number().int().openapi({ description: "Certifications whose expires_at is not an instant" }),
    link: z.string().openapi({ description: "The report's page: PUBLIC_BASE_URL + /reports/{report_id}, or that path alone" }),
  })
  .openapi("WeeklyExpiryReportData");

export const JobAlertData = z
  .object({
    notification_id: NotificationId,
    alert_id: z.string(),
    kind: z.enum(["missed", "late", "failing", "paused_by_policy"]),
    job_name: z.string(),
    scheduled_for: Instant("The instant the alert is about").nullable(),
    run_id: z.string().nullable(),
    message: z.string(),
    opened_at: Instant("When the alert opened"),
    resolved_at: Instant("When it resolved; null while open").nullable(),
  })
  .openapi("JobAlertData");

/** The webhook headers (Standard Webhooks) every event is sent with. */
const WebhookHeaders = z.object({
  "webhook-id": z.string().openapi({ description: "The message's stable id (ntf_<n>), the same on every attempt: deduplicate on it", example: "ntf_12" }),
  "webhook-timestamp": z.string().openapi({ description: "Unix seconds when this attempt was signed; refuse ones too far from now", example: "1925086800" }),
  "webhook-signature": z.string().openapi({
    description:
      "`v1,<base64 HMAC-SHA256 of webhook-id.webhook-timestamp.body>` under each secret of NOTIFY_WEBHOOK_SECRET (whsec_…), space-separated during a rotation; verify with any Standard Webhooks library",
    example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
  }),
});

const EVENTS = [
  ["cert_expiry_reminder", "certExpiryReminder", CertExpiryReminderData, "A mentor's certification expires within 30, 7 or 1 days (one event per certification and window)"],
  ["mentor_paused", "mentorPaused", MentorPausedData, "The nightly check paused a mentor whose certification expired"],
  ["pause_lifted", "pauseLifted", PauseLiftedData, "A pause's auto-lift time passed and no certification of the mentor is still expired"],
  ["weekly_expiry_report", "weeklyExpiryReport", WeeklyExpiryReportData, "A weekly expiry report was stored: its figures and where to read it"],
  ["job.alert.opened", "jobAlertOpened", JobAlertData, "An alert about a job opened (a missed or late run, failing runs, a pause by policy)"],
  ["job.alert.resolved", "jobAlertResolved", JobAlertData, "An alert about a job resolved"],
] as const;

export type WebhookEventType = (typeof EVENTS)[number][0];

const pascal = (id: string) => id[0]!.toUpperCase() + id.slice(1);

/** Each event's whole body, by event type: `{type, timestamp, data}`. */
export const WEBHOOK_EVENTS = {} as Record<WebhookEventType, z.ZodObject>;
for (const [type, id, data] of EVENTS) {
  WEBHOOK_EVENTS[type] = z
    .object({ type: z.literal(type), timestamp: Instant("When the event happened, as the outbox row's creation time"), data })
    .openapi(`${pascal(id)}Event`);
}

const RECEIVER_ANSWERS = {
  "2XX": { description: "Accepted: never sent again" },
  "429": { description: "Slow down: sent again after Retry-After (seconds or an HTTP date; 60 s if absent), without using up an attempt" },
  "4XX": { description: "Refused for good (except 408 and 429): the notification goes dead at once, without retries" },
  "5XX": { description: "Failed (also 408, a timeout after 10 s, or no connection): retried with backoff until NOTIFY_MAX_ATTEMPTS" },
};

/** Adds every outgoing event to the document's `webhooks` section. */
export function registerWebhooks(app: OpenAPIHono<AppEnv>): void {
  for (const [type, operationId, , summary] of EVENTS) {
    app.openAPIRegistry.registerWebhook({
      method: "post",
      path: type,
      operationId,
      summary,
      description:
        "POSTed to NOTIFY_WEBHOOK_URL (every event type goes there when it is set), signed as Standard Webhooks. " +
        "Sent at least once: deduplicate on webhook-id.",
      // The receiver authenticates us by the signature; we send no credential of theirs.
      security: [],
      request: {
        headers: WebhookHeaders,
        body: { required: true, content: { "application/json": { schema: WEBHOOK_EVENTS[type] } } },
      },
      responses: RECEIVER_ANSWERS,
    });
  }
}
