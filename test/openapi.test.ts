import { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { API_BASE, createApp } from "../src/app";
import { OPENAPI_PATH } from "../src/routes/docs";
import * as schemas from "../src/routes/schemas";
import { call } from "./helpers/api";
import { callWith } from "./helpers/call-with";

type Response = { headers?: Record<string, unknown>; content?: Record<string, { schema: { $ref?: string } }> };
type Operation = {
  operationId?: string;
  security?: Record<string, string[]>[];
  "x-required-role"?: string;
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, Response>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { example?: unknown }>; securitySchemes: Record<string, unknown> };
};

/** Every operation of the document: method, path and the operation. */
const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method, path, op, name: `${method.toUpperCase()} ${path}` })));

async function getDocument(): Promise<Document> {
  const response = await call("GET", "/openapi.json", { token: null });
  expect(response.status).toBe(200);
  return response.json as Document;
}

/** The API routes the app really serves: method and path, from Hono's route table. */
function servedRoutes(): { method: string; path: string }[] {
  const seen = new Set<string>();
  return createApp()
    .routes.filter((r) => r.method !== "ALL" && r.path.startsWith(`${API_BASE}/`) && r.path !== OPENAPI_PATH) // the document does not list itself
    .map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/:(\w+)/g, "{$1}") }))
    .filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`));
}

describe("GET /api/v1/scheduler/openapi.json", () => {
  it("is an OpenAPI 3.1 document with a bearer security scheme", async () => {
    const doc = await getDocument();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("lists every route the app serves, under its canonical path, and nothing else", async () => {
    const doc = await getDocument();
    const served = servedRoutes();
    expect(served.length).toBeGreaterThanOrEqual(9);
    for (const { method, path } of served) {
      expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is missing from the document`).toBeDefined();
    }
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    expect(documented.sort()).toEqual(served.map((r) => `${r.method} ${r.path}`).sort());
    expect(Object.keys(doc.paths).every((p) => p.startsWith(`${API_BASE}/`) && !p.startsWith(`${API_BASE}${API_BASE}`))).toBe(true);
  });

  it("gives every operation a unique, readable operationId", async () => {
    const doc = await getDocument();
    const ids = operations(doc).map(({ name, op }) => {
      expect(op.operationId, name).toMatch(/^[a-z][A-Za-z]+$/);
      return op.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
    // The contract's five, by the names generators will give them.
    expect(ids).toEqual(expect.arrayContaining(["listJobs", "registerJob", "triggerJob", "getLastResult", "deleteJob", "updateJob"]));
  });

  it("declares each operation's security and role: public reads take an optional key, personal data and changes need one", async () => {
    const doc = await getDocument();
    // Reads that carry personal data need the token even when other reads are public.
    const personal = /\/(audit|notifications|reports)(\/|$)/;
    for (const { method, path, op, name } of operations(doc)) {
      const role = op["x-required-role"];
      expect(["none", "read", "operator", "admin"], name).toContain(role);
      if (role === "none") {
        expect(op.security, name).toEqual([]);
      } else if (method === "get" && !personal.test(path)) {
        // Public unless REQUIRE_AUTH_FOR_READS; a key is used when sent: optional bearer.
        expect(op.security, name).toEqual([{}, { bearerAuth: [] }]);
        expect(role, name).toBe("read");
      } else {
        expect(op.security, name).toEqual([{ bearerAuth: [] }]);
        if (method !== "get") expect(["operator", "admin"], name).toContain(role);
      }
    }
  });

  it("documents the errors the middleware in front of each operation can give", async () => {
    const doc = await getDocument();
    for (const { op, name } of operations(doc)) {
      const statuses = Object.keys(op.responses);
      const parameters = op.parameters ?? [];
      const mayNeedKey = (op.security ?? []).some((requirement) => "bearerAuth" in requirement);
      if (mayNeedKey) {
        expect(statuses, name).toEqual(expect.arrayContaining(["401", "403", "429"]));
        expect(op.responses["401"]!.headers, name).toHaveProperty("WWW-Authenticate");
        expect(op.responses["429"]!.headers, name).toHaveProperty("Retry-After");
      }
      if (op.requestBody) expect(statuses, name).toEqual(expect.arrayContaining(["400", "413", "415"]));
      if (parameters.length > 0) expect(statuses, name).toContain("400");
      if (parameters.some((p) => p.in === "path")) expect(statuses, name).toContain("404");
      if (parameters.some((p) => p.name === "if-match")) {
        expect(statuses, name).toContain("412");
        expect(op.responses["412"]!.headers, name).toHaveProperty("ETag");
      }
      if (op["x-required-role"] !== "none") expect(statuses.some((s) => s.startsWith("4")), name).toBe(true);
    }
  });

  it("documents If-Match on PATCH and DELETE of a job, and ETag on the answers that carry it", async () => {
    const doc = await getDocument();
    const job = doc.paths[`${API_BASE}/jobs/{jobName}`]!;
    for (const method of ["patch", "delete"]) {
      expect(job[method]!.parameters, method).toContainEqual(expect.objectContaining({ name: "if-match", in: "header", required: false }));
    }
    expect(job.get!.responses["200"]!.headers).toHaveProperty("ETag");
    expect(job.patch!.responses["200"]!.headers).toHaveProperty("ETag");
    expect(doc.paths[`${API_BASE}/jobs`]!.post!.responses["201"]!.headers).toHaveProperty("ETag");
  });

  it("names the role the middleware really requires (x-required-role), checked by calling each operation", async () => {
    const doc = await getDocument();
    // One key per role (vitest.config.ts); the role just below each one is refused.
    const KEY = { read: "test-key-read", operator: "test-key-ops", admin: "test-key-admin" } as const;
    const BELOW = { operator: "read", admin: "operator" } as const;
    for (const { method, path, op, name } of operations(doc)) {
      const role = op["x-required-role"]!;
      const url = path.slice(API_BASE.length).replace(/\{(\w+)\}/g, (_, param: string) => (param === "jobName" ? "no-such-job" : "999999999"));
      // Any JSON object: the role is decided before the body is validated, and nothing valid is sent.
      const body = op.requestBody ? {} : undefined;
      const anonymous = await call(method.toUpperCase(), url, { token: null, body });
      if (role === "none" || (op.security ?? []).some((requirement) => Object.keys(requirement).length === 0)) {
        expect([401, 403], `${name} without a key`).not.toContain(anonymous.status);
        // Locked reads need a key; what needs none ("none") still does not.
        const locked = await callWith({ REQUIRE_AUTH_FOR_READS: "true" }, method.toUpperCase(), url, {});
        if (role === "none") expect([401, 403], `${name} without a key, reads locked`).not.toContain(locked.status);
        else expect(locked.status, `${name} without a key, reads locked`).toBe(401);
        continue;
      }
      expect(anonymous.status, `${name} without a key`).toBe(401);
      if (role === "read") continue;
      const lower = BELOW[role as keyof typeof BELOW];
      const refused = await call(method.toUpperCase(), url, { token: KEY[lower], body });
      expect(refused.status, `${name} with a ${lower} key`).toBe(403);
      expect(refused.json.error.details, name).toMatchObject({ required_role: role, role: lower });
      const allowed = await call(method.toUpperCase(), url, { token: KEY[role as keyof typeof KEY], body: op.requestBody ? [] : undefined });
      expect([401, 403], `${name} with a ${role} key`).not.toContain(allowed.status);
    }
  });

  it("describes every error response with the one error shape", async () => {
    const doc = await getDocument();
    expect(doc.components.schemas.Error).toBeDefined();
    const errorResponses = Object.values(doc.paths)
      .flatMap((ops) => Object.values(ops))
      .flatMap((op) => Object.entries(op.responses).filter(([status]) => Number(status) >= 400 && status !== "503"));
    expect(errorResponses.length).toBeGreaterThan(10);
    for (const [, response] of errorResponses) {
      expect(response.content?.["application/json"]?.schema.$ref).toBe("#/components/schemas/Error");
    }
  });

  it("carries the contract's request examples, and response examples that validate against their schemas", async () => {
    const doc = await getDocument();
    const examples = doc.components.schemas;
    expect(examples.RegisterJobRequest?.example).toEqual(CONTRACT.registerRequest);
    expect(examples.TriggerRequest?.example).toEqual(CONTRACT.triggerRequest);
    const bySchema: [string, z.ZodType][] = [
      ["JobList", schemas.JobListSchema],
      ["RegisteredJob", schemas.RegisteredJobSchema],
      ["TriggeredRun", schemas.TriggerResponseSchema],
      ["LastResult", schemas.LastResultSchema],
      ["DeletedJob", schemas.DeletedSchema],
      ["Error", schemas.ErrorSchema],
    ];
    for (const [name, schema] of bySchema) {
      expect(examples[name]?.example, name).toBeDefined();
      expect(() => schema.parse(examples[name]!.example), name).not.toThrow();
    }
  });

  it("is also what GET /docs (Swagger UI) loads", async () => {
    const response = await call("GET", "https://scheduler.test/docs", { token: null });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/html/);
    // Issue 14: Swagger UI from Static Assets, started by /docs/init.js with the spec URL from a data- attribute.
    expect(response.text).toContain('<script src="/docs/swagger-ui/swagger-ui-bundle.js">');
    expect(response.text).toContain(`data-spec-url="${OPENAPI_PATH}"`);
  });
});

// The five example responses of ../shared/seeds/000_3aa91a82cb1f2da2.txt, verbatim, and its two request examples.
const CONTRACT = {
  list: {
    data: [
      { job_name: "certification-expiry-nightly", cron_expression: "0 2 * * *", is_active: true, last_run_at: "2026-03-26T02:00:00Z", last_run_status: "success", next_run_at: "2026-03-27T02:00:00Z" },
      { job_name: "pause-auto-lift-check", cron_expression: "0 6 * * *", is_active: true, last_run_at: "2026-03-26T06:00:00Z", last_run_status: "success", next_run_at: "2026-03-27T06:00:00Z" },
    ],
    pagination: { page: 1, limit: 20, total: 4 },
  },
  registered: { job_name: "weekly-expiry-summary-report", cron_expression: "0 8 * * 1", is_active: true, created_at: "2026-03-26T09:00:00Z", next_run_at: "2026-03-30T08:00:00Z" },
  triggered: { job_name: "certification-expiry-nightly", triggered_at: "2026-03-26T10:15:00Z", run_id: "run-0094", status: "running" },
  lastResult: {
    job_name: "certification-expiry-nightly",
    run_id: "run-0093",
    started_at: "2026-03-26T02:00:00Z",
    completed_at: "2026-03-26T02:00:01Z",
    status: "success",
    result_summary: { mentors_checked: 87, expired_found: 2, auto_paused: 2, reminders_sent: 5, errors: 0 },
  },
  deleted: { deleted: true, job_name: "weekly-expiry-summary-report", cancelled_at: "2026-03-26T11:00:00Z" },
  registerRequest: { job_name: "weekly-expiry-summary-report", cron_expression: "0 8 * * 1", handler: "generateWeeklyExpiryReport", is_active: true },
  triggerRequest: { triggered_by: "coordinator-007", dry_run: false },
};

/**
 * Our responses are supersets of the contract's: they add fields from later
 * issues (timezone, version, dry_run, triggered_by, attempts) that the contract's
 * examples predate. Each case names exactly the fields the contract omits; the
 * test proves those are the only difference, and that with them optional the
 * example parses to itself (every field it shows is one the schema knows).
 */
const CASES: { name: string; example: unknown; schema: z.ZodType; addedFields: string[]; withoutAdditions: z.ZodType }[] = [
  {
    name: "GET /jobs",
    example: CONTRACT.list,
    schema: schemas.JobListSchema,
    addedFields: ["data.0.timezone", "data.1.timezone", "data.0.version", "data.1.version", "data.0.open_alerts", "data.1.open_alerts"],
    withoutAdditions: schemas.JobListSchema.extend({ data: z.array(schemas.JobSummarySchema.partial({ timezone: true, version: true, open_alerts: true })) }),
  },
  {
    name: "POST /jobs",
    example: CONTRACT.registered,
    schema: schemas.RegisteredJobSchema,
    addedFields: ["timezone", "version"],
    withoutAdditions: schemas.RegisteredJobSchema.partial({ timezone: true, version: true }),
  },
  {
    name: "POST /jobs/:jobName/trigger",
    example: CONTRACT.triggered,
    schema: schemas.TriggerResponseSchema,
    addedFields: ["dry_run"],
    withoutAdditions: schemas.TriggerResponseSchema.partial({ dry_run: true }),
  },
  {
    name: "GET /jobs/:jobName/last-result",
    example: CONTRACT.lastResult,
    schema: schemas.LastResultSchema,
    addedFields: ["triggered_by", "attempts"],
    withoutAdditions: schemas.LastResultSchema.partial({ triggered_by: true, attempts: true }),
  },
  { name: "DELETE /jobs/:jobName", example: CONTRACT.deleted, schema: schemas.DeletedSchema, addedFields: [], withoutAdditions: schemas.DeletedSchema },
];

describe("the contract's example responses against our response schemas", () => {
  for (const { name, example, schema, addedFields, withoutAdditions } of CASES) {
    it(`${name}: differs only by the fields we add (${addedFields.join(", ") || "none"})`, () => {
      const result = schema.safeParse(example);
      const issues = result.success ? [] : result.error.issues;
      expect(issues.map((issue) => issue.path.join(".")).sort()).toEqual([...addedFields].sort());
      for (const issue of issues) expect(issue.message, issue.path.join(".")).toMatch(/received undefined/);
      expect(withoutAdditions.parse(example)).toEqual(example);
    });
  }
});
