import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Alerts and the run counters behind /metrics. Mirrors migrations/0009_alerts.sql. */
export const alerts = sqliteTable("alerts", {
  alertId: integer("alert_id").primaryKey({ autoIncrement: true }),
  jobId: integer("job_id").notNull(),
  jobName: text("job_name").notNull(),
  kind: text("kind", { enum: ["missed", "late", "failing", "paused_by_policy"] }).notNull(),
  scheduledFor: text("scheduled_for"),
  runNo: integer("run_no"),
  message: text("message").notNull(),
  openedAt: text("opened_at").notNull(),
  resolvedAt: text("resolved_at"),
  resolution: text("resolution"),
});

/** Monotonic: maintained by triggers on `runs`, never decremented, never pruned. */
export const runCounters = sqliteTable(
  "run_counters",
  {
    jobName: text("job_name").notNull(),
    status: text("status").notNull(),
    total: integer("total").notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobName, t.status] })],
);

/** Per registration, after its last finished real run (triggers on `runs`). */
export const jobRunStats = sqliteTable("job_run_stats", {
  jobId: integer("job_id").primaryKey(),
  consecutiveFailures: integer("consecutive_failures").notNull(),
  lastSuccessAt: text("last_success_at"),
  lastFinishedAt: text("last_finished_at"),
  lastDurationMs: integer("last_duration_ms"),
});

export type AlertRow = typeof alerts.$inferSelect;
