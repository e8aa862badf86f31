import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { hasKey } from "../middleware/auth";
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
import { errors, json, secured } from "./responses";
import { validationHook } from "./validation";

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
      summary: "List all registered scheduler jobs",
      request: { query: ListJobsQuery },
      responses: { 200: json(JobListSchema, "A page of jobs, ordered by job_name"), ...errors(400) },
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
      summary: "Register a new scheduler job",
      security: secured,
      request: { body: { content: { "application/json": { schema: CreateJobBody } }, required: true } },
      responses: { 201: withEtag(RegisteredJobSchema, "Registered and armed"), ...errors(400, 401, 403, 409, 413, 415, 422, 429) },
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
      summary: "Get one job with its policies and next five run instants",
      request: { params: JobParams },
      responses: { 200: withEtag(JobDetailSchema, "The job"), ...errors(400, 404) },
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
      summary: "Update a job: schedule, handler, policies; pause (is_active false) or resume",
      security: secured,
      request: {
        params: JobParams,
        headers: IfMatchHeaders,
        body: { content: { "application/json": { schema: PatchJobBody } }, required: true },
      },
      responses: { 200: withEtag(JobDetailSchema, "The updated job"), ...errors(400, 401, 403, 404, 409, 412, 413, 415, 422, 429) },
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
      summary: "Cancel and deregister a scheduler job (its run history stays)",
      security: secured,
      request: { params: JobParams, headers: IfMatchHeaders },
      responses: { 200: json(DeletedSchema, "Deregistered"), ...errors(400, 401, 403, 404, 409, 412, 429) },
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
      summary: "Manually trigger a registered job immediately",
      security: secured,
      request: {
        params: JobParams,
        body: { content: { "application/json": { schema: TriggerBody } }, required: false },
      },
      responses: { 202: json(TriggerResponseSchema, "Accepted; the run goes on after the answer"), ...errors(400, 401, 403, 404, 409, 413, 415, 429) },
    }),
    async (c) =>
      c.json(await jobs.triggerJob(c.env, c.req.valid("param").jobName, TriggerBody.parse(c.req.valid("json")), c.var.actor), 202),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/jobs/{jobName}/last-result",
      summary: "Get the result of the most recent execution of a job",
      request: { params: JobParams },
      responses: { 200: json(LastResultSchema, "The newest run, scheduled or manual"), ...errors(400, 404) },
    }),
    async (c) => c.json(await jobs.getLastResult(c.var.db, c.req.valid("param").jobName, hasKey(c)), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/jobs/{jobName}/runs",
      summary: "Run history, newest first, with cursor paging",
      request: { params: JobParams, query: RunsQuery },
      responses: { 200: json(RunsPageSchema, "A page of runs"), ...errors(400, 404) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      return c.json(await jobs.listJobRuns(c.var.db, c.req.valid("param").jobName, limit, cursor, hasKey(c)), 200);
    },
  );
