import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { pageSchema } from "../lib/paging";
import { access, errors } from "../openapi/operations";
import { alertPaging, listAlerts } from "../services/alerts-service";
import { AlertSchema, JobNameSchema, LimitQuery } from "./schemas";
import { validationHook } from "./validation";

const AlertsQuery = z.strictObject({
  state: z.enum(["open", "resolved"]).optional().openapi({ description: "open: not resolved yet (of jobs that still exist); resolved; both when left out" }),
  job_name: JobNameSchema.optional(),
  limit: LimitQuery,
  cursor: alertPaging.cursorQuery,
});

/** Alerts: missed, late, failing and paused_by_policy (docs/alerts.md). */
export const alertsRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(
  createRoute({
    method: "get",
    path: "/alerts",
    operationId: "listAlerts",
    summary: "List alerts (missed, late, failing, paused by policy), newest first",
    ...access("public-read"),
    request: { query: AlertsQuery },
    responses: {
      200: { content: { "application/json": { schema: pageSchema(AlertSchema).openapi("AlertList") } }, description: "Newest first" },
      ...errors("public-read", 400),
    },
  }),
  async (c) => c.json(await listAlerts(c.var.db, c.req.valid("query")), 200),
);
