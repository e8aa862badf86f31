import { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { API_BASE, createApp } from "../src/app";
import { OPENAPI_PATH } from "../src/routes/docs";
import * as schemas from "../src/routes/schemas";
import { call } from "./helpers/api";

type Operation = { security?: Record<string, string[]>[]; responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> };
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { example?: unknown }>; securitySchemes: Record<string, unknown> };
};

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

  it("marks every change, the audit trail, notifications and reports as needing the bearer token, and no other read", async () => {
    const doc = await getDocument();
    // Reads that carry personal data need the token even when other reads are public.
    const personal = /\/(audit|notifications|reports)(\/|$)/;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const needsToken = method !== "get" || personal.test(path);
        expect(op.security ?? [], `${method} ${path}`).toEqual(needsToken ? [{ bearerAuth: [] }] : []);
        if (needsToken) expect(Object.keys(op.responses), `${method} ${path}`).toContain("401");
      }
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
