import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { hasKey } from "../middleware/auth";
import { access, BODY_ERRORS, errors, json } from "../openapi/operations";
import * as jobs from "../services/jobs-service";
import type { IfMatch } from "../scheduler/job-changes";
import {
  CreateJobBody,
  DeletedSchema,
  IfMatchHeaders,
  JobDetailSchema,
  JobListSchema,
  JobParams,
  LastResultSchema,
  ListJobsQuery,
  PatchJobBody,
  RegisteredJobSchema,
  RunsPageSchema,
  RunsQuery,
  TriggerBody,
  TriggerResponseSchema,
} from "./schemas";
import { validationHook } from "./validation";

const noJob = [404, "No job by this name is registered"] as const;
const changedMeanwhile = [409, "The job was changed outside this service while the change was being made; try again"] as const;
const etagHeader = { ETag: { schema: { type: "string" as const, example: '"3"' }, description: "The job's version, for If-Match" } };
const withEtag = <T extends object>(body: T, description: string) => ({ ...json(body, description), headers: etagHeader });
const etag = (version: number) => ({ ETag: `"${version}"` });

function ifMatch(header: string | undefined): IfMatch {
  if (header === undefined) return null;
  if (header.trim() === "*") return { any: true };
  return { versions: [...header.matchAll(/"(\d+)"/g)].map((m) => Number(m[1])) };
}

/** The job resource: one sub-app, mounted at /api/v1/scheduler. */
export const jobsRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(
    createRoute({
      method: "get",
      path: "/jobs",
      operationId: "listJobs",
      summary: "List all registered scheduler jobs",
      ...access("public-read"),
      request: { query: ListJobsQuery },
      responses: { 200: json(JobListSchema, "A page of jobs, ordered by job_name"), ...errors("public-read", 400) },
    }),
    async (c) => {
      const { page, limit } = c.req.valid("query");
      return c.json(await jobs.listJobs(c.var.db, page, limit), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/jobs",
      operationId: "registerJob",
      summary: "Register a new scheduler job",
      ...access("admin"),
      request: { body: { content: { "application/json": { schema: CreateJobBody } }, required: true } },
      responses: {
        201: withEtag(RegisteredJobSchema, "Registered and armed"),
        ...errors("admin", ...BODY_ERRORS, [409, "A job by this name is already registered"], [422, "The handler is not registered (the message lists the known ones)"]),
      },
    }),
    async (c) => {
      const job = await jobs.registerJob(c.env, c.req.valid("json"), c.var.actor);
      return c.json(job, 201, etag(job.version));
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/jobs/{jobName}",
      operationId: "getJob",
      summary: "Get one job with its policies and next five run instants",
      ...access("public-read"),
      request: { params: JobParams },
      responses: { 200: withEtag(JobDetailSchema, "The job"), ...errors("public-read", 400, noJob) },
    }),
    async (c) => {
      const job = await jobs.getJob(c.var.db, c.req.valid("param").jobName);
      return c.json(job, 200, etag(job.version));
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/jobs/{jobName}",
      operationId: "updateJob",
      summary: "Update a job: schedule, handler, policies; pause (is_active false) or resume",
      ...access("admin", "A body with `is_active` alone (a pause or a resume) needs only the `operator` role."),
      request: {
        params: JobParams,
        headers: IfMatchHeaders,
        body: { content: { "application/json": { schema: PatchJobBody } }, required: true },
      },
      responses: {
        200: withEtag(JobDetailSchema, "The updated job"),
        ...errors("admin", ...BODY_ERRORS, noJob, changedMeanwhile, 412, [422, "The handler is not registered"]),
      },
    }),
    async (c) => {
      const { job_name: _ignored, ...patch } = c.req.valid("json");
      const precondition = ifMatch(c.req.valid("header")["if-match"]);
      const job = await jobs.updateJob(c.env, c.req.valid("param").jobName, patch, precondition, c.var.actor);
      return c.json(job, 200, etag(job.version));
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/jobs/{jobName}",
      operationId: "deleteJob",
      summary: "Cancel and deregister a scheduler job (its run history stays)",
      ...access("admin"),
      request: { params: JobParams, headers: IfMatchHeaders },
      responses: { 200: json(DeletedSchema, "Deregistered"), ...errors("admin", 400, noJob, changedMeanwhile, 412) },
    }),
    async (c) => {
      const precondition = ifMatch(c.req.valid("header")["if-match"]);
      return c.json(await jobs.deleteJob(c.env, c.req.valid("param").jobName, precondition, c.var.actor), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/jobs/{jobName}/trigger",
      operationId: "triggerJob",
      summary: "Manually trigger a registered job immediately",
      ...access("operator"),
      request: {
        params: JobParams,
        body: { content: { "application/json": { schema: TriggerBody } }, required: false },
      },
      responses: {
        202: json(TriggerResponseSchema, "Accepted; the run goes on after the answer"),
        ...errors("operator", ...BODY_ERRORS, noJob, [409, 'A run is in progress and the job\'s overlap_policy is "skip"']),
      },
    }),
    async (c) =>
      c.json(await jobs.triggerJob(c.env, c.req.valid("param").jobName, TriggerBody.parse(c.req.valid("json")), c.var.actor), 202),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/jobs/{jobName}/last-result",
      operationId: "getLastResult",
      summary: "Get the result of the most recent execution of a job",
      ...access("public-read"),
      request: { params: JobParams },
      responses: {
        200: json(LastResultSchema, "The newest run, scheduled or manual"),
        ...errors("public-read", 400, [404, "No job by this name is registered, or it has not run yet"]),
      },
    }),
    async (c) => c.json(await jobs.getLastResult(c.var.db, c.req.valid("param").jobName, hasKey(c)), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/jobs/{jobName}/runs",
      operationId: "listRuns",
      summary: "Run history, newest first, with cursor paging",
      ...access("public-read"),
      request: { params: JobParams, query: RunsQuery },
      responses: { 200: json(RunsPageSchema, "A page of runs"), ...errors("public-read", 400, noJob) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      return c.json(await jobs.listJobRuns(c.var.db, c.req.valid("param").jobName, limit, cursor, hasKey(c)), 200);
    },
  );
