import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { pageSchema } from "../lib/paging";
import { access, errors } from "../openapi/operations";
import * as delivery from "../services/delivery-service";
import { LimitQuery } from "./schemas";
import { validationHook } from "./validation";

const ReportsQuery = z.strictObject({
  kind: z.string().min(1).max(64).optional().openapi({ example: "weekly_expiry_summary" }),
  limit: LimitQuery,
  cursor: delivery.reportPaging.cursorQuery,
});

const IdParam = z.object({
  id: z
    .string()
    .regex(/^[0-9]{1,15}$/, { message: "id must be a report id (a whole number)" })
    .openapi({ param: { name: "id", in: "path" }, example: "3" }),
});

const ReportSummarySchema = z
  .object({
    report_id: z.number().int(),
    kind: z.string(),
    run_id: z.string().openapi({ description: "The run that generated it, as GET /jobs/{jobName}/runs shows it" }),
    generated_at: z.string(),
    figures: z.record(z.string(), z.number().int()).openapi({ description: "How many entries each list of the report has" }),
  })
  .openapi("ReportSummary");

const ReportSchema = ReportSummarySchema.extend({ body: z.record(z.string(), z.unknown()) }).openapi("Report");


/** Stored reports. Token required even when reads are public: they name mentors. */
export const reportsRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(
    createRoute({
      method: "get",
      path: "/reports",
      operationId: "listReports",
      summary: "List stored reports, newest first (requires a token)",
      ...access("read"),
      request: { query: ReportsQuery },
      responses: {
        200: {
          content: { "application/json": { schema: pageSchema(ReportSummarySchema) } },
          description: "Newest first",
        },
        ...errors("read", 400),
      },
    }),
    async (c) => c.json(await delivery.listReports(c.var.db, c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/reports/{id}",
      operationId: "getReport",
      summary: "Read one stored report (requires a token)",
      ...access("read"),
      request: { params: IdParam },
      responses: {
        200: { content: { "application/json": { schema: ReportSchema } }, description: "The report with its body" },
        ...errors("read", 400, [404, "No such report"]),
      },
    }),
    async (c) => c.json(await delivery.getReport(c.var.db, Number(c.req.valid("param").id)), 200),
  );
