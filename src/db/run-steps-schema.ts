import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The step ledger of long runs (migrations/0008_run_steps.sql, the source of truth).
 * A row is written in the same D1 batch as its step's effects.
 */
export const runSteps = sqliteTable(
  "run_steps",
  {
    jobId: integer("job_id").notNull(),
    runId: text("run_id").notNull(),
    stepNo: integer("step_no").notNull(),
    done: integer("done", { mode: "boolean" }).notNull(),
    cursor: text("cursor", { mode: "json" }).$type<unknown>(),
    processed: integer("processed").notNull(),
    total: integer("total"),
    summary: text("summary", { mode: "json" }).notNull().$type<Record<string, number>>(),
    committedAt: text("committed_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.runId, t.stepNo] })],
);

export type RunStepRow = typeof runSteps.$inferSelect;
