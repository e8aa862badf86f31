import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** The job registry. Mirrors migrations/0001_scheduler.sql. */
export const jobs = sqliteTable("jobs", {
  jobId: integer("job_id").primaryKey({ autoIncrement: true }),
  jobName: text("job_name").notNull().unique(),
  cronExpression: text("cron_expression").notNull(),
  timezone: text("timezone").notNull().default("UTC"),
  handler: text("handler").notNull(),
  isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
  overlapPolicy: text("overlap_policy", { enum: ["skip", "allow"] }).notNull().default("skip"),
  misfirePolicy: text("misfire_policy", { enum: ["run_once", "skip"] }).notNull().default("run_once"),
  catchupWindowSeconds: integer("catchup_window_seconds").notNull().default(86400),
  maxRetries: integer("max_retries").notNull().default(0),
  timeoutSeconds: integer("timeout_seconds").notNull().default(300),
  // Deadlines and alerts (migration 0009, issue 13).
  startDeadlineSeconds: integer("start_deadline_seconds").notNull().default(600),
  finishDeadlineSeconds: integer("finish_deadline_seconds"),
  alertAfterFailures: integer("alert_after_failures").notNull().default(1),
  pauseAfterFailures: integer("pause_after_failures"),
  alertsEnabled: integer("alerts_enabled", { mode: "boolean" }).notNull().default(true),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
  lastRunSeq: integer("last_run_seq"),
  lastRunAt: text("last_run_at"),
  lastRunStatus: text("last_run_status"),
  nextRunAt: text("next_run_at"),
  /** Raised by every change to the job's configuration; If-Match compares against it. */
  version: integer("version").notNull().default(1),
});

export const runs = sqliteTable("runs", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  jobId: integer("job_id").notNull(),
  /** The run's number within its registration, allocated by the job's object (run_id "run-0094"). */
  runNo: integer("run_no").notNull(),
  jobName: text("job_name").notNull(),
  scheduledFor: text("scheduled_for"),
  catchUp: integer("catch_up", { mode: "boolean" }).notNull().default(false),
  triggeredBy: text("triggered_by").notNull(),
  dryRun: integer("dry_run", { mode: "boolean" }).notNull().default(false),
  status: text("status", { enum: ["running", "success", "failed", "skipped"] }).notNull(),
  attempts: integer("attempts").notNull().default(0),
  startedAt: text("started_at").notNull(),
  completedAt: text("completed_at"),
  durationMs: integer("duration_ms"),
  resultSummary: text("result_summary", { mode: "json" }).$type<Record<string, unknown>>(),
  error: text("error"),
});

export const auditLog = sqliteTable("audit_log", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  at: text("at").notNull(),
  action: text("action").notNull(),
  jobName: text("job_name").notNull(),
  actor: text("actor").notNull(),
  requestId: text("request_id"),
  /** The client's own X-Request-Id, if well-formed (migration 0006); request_id is always the server's. */
  clientRequestId: text("client_request_id"),
  sourceIp: text("source_ip"),
  userAgent: text("user_agent"),
  before: text("before", { mode: "json" }).$type<Record<string, unknown> | null>(),
  after: text("after", { mode: "json" }).$type<Record<string, unknown> | null>(),
});

export const jobCount = sqliteTable("job_count", {
  id: integer("id").primaryKey(),
  total: integer("total").notNull(),
});

export type JobRow = typeof jobs.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
