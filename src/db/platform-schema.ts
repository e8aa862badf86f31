import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex, unique } from "drizzle-orm/sqlite-core";

/**
 * The mentoring platform's tables the built-in handlers act on (mentors,
 * certifications, pauses: platform-migrations/0001_platform_tables.sql) and
 * the scheduler's tables they write (notification_outbox, reports:
 * migrations/0005_scheduler_outbox_reports.sql). Mirrors those migrations
 * exactly; the migrations are the source of truth, and docs/platform-data.md
 * describes every column (test/platform-data-doc.test.ts keeps the three in step).
 * Times are ISO-8601 UTC strings with a Z.
 */
export const mentors = sqliteTable(
  "mentors",
  {
    mentorId: text("mentor_id").primaryKey(),
    name: text("name").notNull(),
    email: text("email").notNull(),
    status: text("status", { enum: ["active", "paused"] }).notNull().default("active"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("mentors_status_id").on(t.status, t.mentorId)],
);

export const certifications = sqliteTable(
  "certifications",
  {
    certificationId: text("certification_id").primaryKey(),
    mentorId: text("mentor_id")
      .notNull()
      .references(() => mentors.mentorId),
    name: text("name").notNull(),
    expiresAt: text("expires_at").notNull(),
  },
  (t) => [index("certifications_mentor").on(t.mentorId), index("certifications_expiry").on(t.expiresAt)],
);

export const pauses = sqliteTable(
  "pauses",
  {
    pauseId: integer("pause_id").primaryKey({ autoIncrement: true }),
    mentorId: text("mentor_id")
      .notNull()
      .references(() => mentors.mentorId),
    /** e.g. certification_expired, vacation */
    reason: text("reason").notNull(),
    pausedAt: text("paused_at").notNull(),
    /** NULL: lifted by hand only. */
    autoLiftAt: text("auto_lift_at"),
    liftedAt: text("lifted_at"),
    createdByRun: text("created_by_run"),
  },
  (t) => [
    // One open pause per mentor and reason: pausing again changes nothing.
    uniqueIndex("pauses_open").on(t.mentorId, t.reason).where(sql`lifted_at IS NULL`),
    index("pauses_due").on(t.autoLiftAt).where(sql`lifted_at IS NULL`),
    index("pauses_open_auto_lift").on(t.pauseId).where(sql`lifted_at IS NULL AND auto_lift_at IS NOT NULL`),
  ],
);

export const OUTBOX_STATUSES = ["pending", "sending", "sent", "failed", "dead"] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** Mirrors migrations/0002_platform.sql as rebuilt by 0007_delivery.sql. */
export const notificationOutbox = sqliteTable(
  "notification_outbox",
  {
    notificationId: integer("notification_id").primaryKey({ autoIncrement: true }),
    /** e.g. cert-expiry-reminder:<certification_id>:<window_days> */
    dedupeKey: text("dedupe_key").notNull().unique(),
    /** NULL: addressed to coordinators (weekly report, alerts). */
    mentorId: text("mentor_id"),
    kind: text("kind").notNull(),
    payload: text("payload", { mode: "json" }).notNull().$type<Record<string, unknown>>(),
    createdAt: text("created_at").notNull(),
    createdByRun: text("created_by_run"),
    jobName: text("job_name"),
    status: text("status", { enum: OUTBOX_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    deliveredTo: text("delivered_to", { mode: "json" }).$type<string[]>(),
    nextAttemptAt: text("next_attempt_at"),
    leaseUntil: text("lease_until"),
    leaseToken: text("lease_token"),
    sentAt: text("sent_at"),
  },
  (t) => [
    index("outbox_due").on(t.status, t.nextAttemptAt),
    index("outbox_run").on(t.createdByRun, t.jobName),
    index("outbox_mentor").on(t.mentorId),
    index("outbox_sent").on(t.sentAt).where(sql`status = 'sent'`),
  ],
);

export const reports = sqliteTable(
  "reports",
  {
    reportId: integer("report_id").primaryKey({ autoIncrement: true }),
    kind: text("kind").notNull(),
    /** NULL only for reports stored before run ids became per job (migration 0008). */
    jobId: integer("job_id"),
    jobName: text("job_name"),
    runId: text("run_id").notNull(),
    generatedAt: text("generated_at").notNull(),
    body: text("body", { mode: "json" }).notNull().$type<Record<string, unknown>>(),
  },
  (t) => [unique().on(t.kind, t.jobId, t.runId)],
);

/** A report's full lists, one row per entry; the report row keeps the first entries only. */
export const reportItems = sqliteTable(
  "report_items",
  {
    kind: text("kind").notNull(),
    jobId: integer("job_id").notNull(),
    runId: text("run_id").notNull(),
    list: text("list").notNull(),
    sortKey: text("sort_key").notNull(),
    item: text("item", { mode: "json" }).notNull().$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.jobId, t.runId, t.list, t.sortKey] })],
);

export type MentorRow = typeof mentors.$inferSelect;
export type CertificationRow = typeof certifications.$inferSelect;
export type PauseRow = typeof pauses.$inferSelect;
export type NotificationRow = typeof notificationOutbox.$inferSelect;
export type ReportRow = typeof reports.$inferSelect;
