import { z } from "@hono/zod-openapi";
import { createSchemaFactory } from "drizzle-zod";
import { JOB_POLICY, POLICY_KEYS, policyName, type PolicyKey, type PolicyName, type PolicyRule } from "../db/job-policy";
import { jobs, type JobRow } from "../db/schema";

/**
 * Every input and output of the API, declared once: validation and the
 * OpenAPI document both come from these.
 */

const JOB_NAME_RULE = "1-64 characters: lower-case letters, digits and '-', starting and ending with a letter or digit";

export const JobNameSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, { message: `job_name must be ${JOB_NAME_RULE}` })
  .openapi({ example: "certification-expiry-nightly", description: JOB_NAME_RULE });

/** The length limit here; field-by-field checks and "never fires" in checkSchedule (src/cron/schedule.ts). */
const CronExpressionSchema = z.string().min(1).max(100);

const IsoTime = z.string().openapi({ example: "2026-03-26T02:00:00Z", description: "ISO-8601 UTC" });

// A job's policy fields come from its table and the policy list (src/db/job-policy.ts): type, nullability
// and default from the column, bounds and description from the list, the API name from the column's name.
const { createSelectSchema } = createSchemaFactory({ zodInstance: z });
const bounds = Object.fromEntries(
  POLICY_KEYS.flatMap((key) => {
    const rule: PolicyRule = JOB_POLICY[key];
    return rule.min === undefined ? [] : [[key, (column: z.ZodNumber) => column.min(rule.min!).max(rule.max!)]];
  }),
);
const jobColumns = createSelectSchema(jobs, bounds as {}).shape;
type PolicySchemas = { [K in PolicyKey as PolicyName<K>]: z.ZodType<JobRow[K], JobRow[K]> };
const policyFields = Object.fromEntries(
  POLICY_KEYS.map((key) => {
    const { description }: PolicyRule = JOB_POLICY[key];
    return [policyName(key), description ? jobColumns[key].openapi({ description }) : jobColumns[key]];
  }),
) as unknown as PolicySchemas;
/** What a registration that leaves a policy out gets: the column's default. */
const policyDefaults = Object.fromEntries(
  POLICY_KEYS.map((key) => [policyName(key), (policyFields[policyName(key)] as z.ZodType).default(jobs[key].default ?? null)]),
) as unknown as { [N in keyof PolicySchemas]: z.ZodDefault<PolicySchemas[N]> };

const TimezoneSchema = z.string().min(1).max(64).openapi({ example: "UTC", description: "IANA time zone the cron expression is evaluated in" });
const HandlerSchema = z.string().min(1).max(64);

export const CreateJobBody = z
  .strictObject({
    job_name: JobNameSchema,
    cron_expression: CronExpressionSchema.openapi({ example: "0 8 * * 1" }),
    handler: HandlerSchema.openapi({ example: "generateWeeklyExpiryReport" }),
    is_active: z.boolean().default(true),
    timezone: TimezoneSchema.default("UTC"),
    ...policyDefaults,
  })
  .openapi("RegisterJobRequest", {
    example: {
      job_name: "weekly-expiry-summary-report",
      cron_expression: "0 8 * * 1",
      handler: "generateWeeklyExpiryReport",
      is_active: true,
    } as never,
  });
export type CreateJobInput = z.infer<typeof CreateJobBody>;

const patchFields = {
  cron_expression: CronExpressionSchema,
  handler: HandlerSchema,
  is_active: z.boolean(),
  timezone: TimezoneSchema,
  ...policyFields,
};
const PATCHABLE = Object.keys(patchFields).join(", ");

export const PatchJobBody = z
  .strictObject({
    ...Object.fromEntries(Object.entries(patchFields).map(([k, v]) => [k, v.optional()])),
    job_name: z.unknown().optional().openapi({ description: "Refused: a job's name cannot be changed." }),
  } as { [K in keyof typeof patchFields]: z.ZodOptional<(typeof patchFields)[K]> } & { job_name: z.ZodOptional<z.ZodUnknown> })
  .superRefine((body, ctx) => {
    if (body.job_name !== undefined) {
      ctx.addIssue({ code: "custom", path: ["job_name"], message: "job_name cannot be changed; delete the job and register it under the new name" });
    } else if (Object.values(body).every((v) => v === undefined)) {
      ctx.addIssue({ code: "custom", path: [], message: `the patch is empty: give at least one of ${PATCHABLE}` });
    }
  })
  .openapi("UpdateJobRequest", { example: { is_active: false } as never });
export type PatchJobInput = Omit<z.infer<typeof PatchJobBody>, "job_name">;

export const TriggerBody = z
  .strictObject({
    triggered_by: z.string().min(1).max(128).optional().openapi({ example: "coordinator-007" }),
    dry_run: z.boolean().default(false),
  })
  .openapi("TriggerRequest", { example: { triggered_by: "coordinator-007", dry_run: false } as never });
export type TriggerInput = z.infer<typeof TriggerBody>;

/** A positive integer from the query string: digits only, no silent clamping. */
const positiveInt = (name: string, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,9}$/, { message: `${name} must be a whole number from 1 to ${max}` })
    .transform(Number)
    .pipe(z.number().int().min(1, { message: `${name} must be at least 1` }).max(max, { message: `${name} must be at most ${max}` }));

/** `limit` of a cursor-paged list (audit, notifications, reports): 1 to 100, default 20. */
export const LimitQuery = z
  .string()
  .regex(/^[0-9]{1,3}$/, { message: "limit must be a whole number from 1 to 100" })
  .transform(Number)
  .pipe(z.number().int().min(1, { message: "limit must be at least 1" }).max(100, { message: "limit must be at most 100" }))
  .optional()
  .default(20)
  .openapi({ type: "integer", minimum: 1, maximum: 100, default: 20 });;

export const ListJobsQuery = z.strictObject({
  page: positiveInt("page", 1_000_000).optional().default(1).openapi({ type: "integer", example: 1 }),
  limit: positiveInt("limit", 100).optional().default(20).openapi({ type: "integer", example: 20 }),
});

export const RunsQuery = z.strictObject({
  limit: positiveInt("limit", 100).optional().default(20).openapi({ type: "integer", example: 20 }),
  cursor: z
    .string()
    .regex(/^run-[0-9]{4,15}$/, { message: "cursor must be a run_id such as run-0094 (the next_cursor of the previous page)" })
    .optional(),
});

/**
 * If-Match: the job's ETag as GET gave it ("3"), several of them, or "*".
 * A weak tag never matches (RFC 9110 §13.1.1 compares strongly).
 */
export const IfMatchHeaders = z.object({
  "if-match": z
    .string()
    .max(200)
    .regex(/^\s*(\*|"\d{1,15}"(\s*,\s*"\d{1,15}")*)\s*$/, {
      message: 'If-Match must be the job\'s ETag as GET returned it (for example "3"), a comma-separated list of them, or *',
    })
    .optional()
    .openapi({ param: { name: "if-match", in: "header" }, example: '"3"', description: "Change the job only if it is still at this version (its ETag)." }),
});

export const JobParams = z.strictObject({
  jobName: JobNameSchema.openapi({ param: { name: "jobName", in: "path" } }),
});

// ---- responses ----

export const JobSummarySchema = z
  .object({
    job_name: z.string(),
    cron_expression: z.string(),
    timezone: z.string(),
    is_active: z.boolean(),
    last_run_at: IsoTime.nullable(),
    last_run_status: z.enum(["running", "success", "failed"]).nullable(),
    next_run_at: IsoTime.nullable(),
    version: z.number().int().openapi({ description: "Raised by every change to the job; send it back in If-Match to change only what you read." }),
  })
  .openapi("JobSummary");

export const JobListSchema = z
  .object({
    data: z.array(JobSummarySchema),
    pagination: z.object({ page: z.number().int(), limit: z.number().int(), total: z.number().int() }),
  })
  .openapi("JobList", {
    example: {
      data: [
        {
          job_name: "certification-expiry-nightly",
          cron_expression: "0 2 * * *",
          timezone: "UTC",
          is_active: true,
          last_run_at: "2026-03-26T02:00:00Z",
          last_run_status: "success",
          next_run_at: "2026-03-27T02:00:00Z",
          version: 1,
        },
      ],
      pagination: { page: 1, limit: 20, total: 4 },
    },
  });

export const JobDetailSchema = JobSummarySchema.extend({
  handler: z.string(),
  ...policyFields,
  created_at: IsoTime,
  updated_at: IsoTime,
  upcoming_runs: z.array(IsoTime),
}).openapi("JobDetail");

export const RegisteredJobSchema = z
  .object({
    job_name: z.string(),
    cron_expression: z.string(),
    timezone: z.string(),
    is_active: z.boolean(),
    created_at: IsoTime,
    next_run_at: IsoTime.nullable(),
    version: z.number().int(),
  })
  .openapi("RegisteredJob", {
    example: {
      job_name: "weekly-expiry-summary-report",
      cron_expression: "0 8 * * 1",
      timezone: "UTC",
      is_active: true,
      created_at: "2026-03-26T09:00:00Z",
      next_run_at: "2026-03-30T08:00:00Z",
      version: 1,
    },
  });

export const TriggerResponseSchema = z
  .object({
    job_name: z.string(),
    triggered_at: IsoTime,
    run_id: z.string(),
    status: z.literal("running"),
    dry_run: z.boolean(),
  })
  .openapi("TriggeredRun", {
    example: { job_name: "certification-expiry-nightly", triggered_at: "2026-03-26T10:15:00Z", run_id: "run-0094", status: "running", dry_run: false },
  });

// Issue 14: the public error is a stable code and a safe message; the raw text is error_detail, for key holders only.
const RunErrorSchema = z
  .object({
    code: z.enum(["handler_failed", "timed_out", "skipped_overlap", "skipped_misfire", "skipped_catchup_window", "skipped"]),
    message: z.string(),
  })
  .openapi("RunError");

export const RunSchema = z
  .object({
    run_id: z.string(),
    status: z.enum(["running", "success", "failed", "skipped"]),
    scheduled_for: IsoTime.nullable(),
    catch_up: z.boolean(),
    triggered_by: z.string(),
    dry_run: z.boolean(),
    attempts: z.number().int(),
    started_at: IsoTime,
    completed_at: IsoTime.nullable(),
    duration_ms: z.number().int().nullable(),
    result_summary: z.record(z.string(), z.unknown()).nullable(),
    error: RunErrorSchema.optional(),
    error_detail: z.string().optional().openapi({ description: "The raw error; only for a request made with an API key" }),
    progress: z
      .object({ processed: z.number().int(), total: z.number().int().nullable() })
      .optional()
      .openapi({ description: "While a run goes: how far it has got, as its handler counts (rows processed of the total, where the handler knows it)." }),
    // issue 12: what became of the notifications this run wrote.
    deliveries: z
      .object({ queued: z.number().int(), sent: z.number().int(), failed: z.number().int(), dead: z.number().int() })
      .openapi({ description: "The run's notifications by delivery state (queued = pending or being sent)" }),
  })
  .openapi("Run");

export const RunsPageSchema = z.object({ data: z.array(RunSchema), next_cursor: z.string().nullable() }).openapi("RunsPage");

export const LastResultSchema = z
  .object({
    job_name: z.string(),
    run_id: z.string(),
    started_at: IsoTime,
    completed_at: IsoTime.nullable(),
    status: z.enum(["running", "success", "failed"]),
    result_summary: z.record(z.string(), z.unknown()).nullable(),
    error: RunErrorSchema.optional(),
    error_detail: z.string().optional().openapi({ description: "The raw error; only for a request made with an API key" }),
    dry_run: z.literal(true).optional(),
    triggered_by: z.string(),
    attempts: z.number().int(),
  })
  .openapi("LastResult", {
    example: {
      job_name: "certification-expiry-nightly",
      run_id: "run-0093",
      started_at: "2026-03-26T02:00:00Z",
      completed_at: "2026-03-26T02:00:01Z",
      status: "success",
      result_summary: { mentors_checked: 87, expired_found: 2, auto_paused: 2, reminders_sent: 5, errors: 0 },
      triggered_by: "scheduler",
      attempts: 1,
    },
  });

export const DeletedSchema = z
  .object({ deleted: z.literal(true), job_name: z.string(), cancelled_at: IsoTime })
  .openapi("DeletedJob", { example: { deleted: true, job_name: "weekly-expiry-summary-report", cancelled_at: "2026-03-26T11:00:00Z" } });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
      request_id: z.string().optional(),
    }),
  })
  .openapi("Error", { example: { error: { code: "job_not_found", message: 'No job named "nightly" is registered.' } } });
