import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { listAlerts } from "../services/alerts-service";
import { AlertSchema, ErrorSchema, JobNameSchema, LimitQuery } from "./schemas";
import { validationHook } from "./validation";

const AlertsQuery = z.strictObject({
  state: z.enum(["open", "resolved"]).optional().openapi({ description: "open: not resolved yet (of jobs that still exist); resolved; both when left out" }),
  job_name: JobNameSchema.optional(),
  limit: LimitQuery,
  cursor: z.string().regex(/^alert-[0-9]{1,15}$/, { message: "cursor must be the next_cursor of the previous page" }).optional(),
});

const error = (description: string) => ({ content: { "application/json": { schema: ErrorSchema } }, description });

/** Alerts: missed, late, failing and paused_by_policy (docs/alerts.md). A read: public unless REQUIRE_AUTH_FOR_READS. */
export const alertsRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(
  createRoute({
    method: "get",
    path: "/alerts",
    operationId: "listAlerts",
    summary: "List alerts, newest first (a key with the read role when REQUIRE_AUTH_FOR_READS is true)",
    request: { query: AlertsQuery },
    responses: {
      200: {
        content: { "application/json": { schema: z.object({ data: z.array(AlertSchema), next_cursor: z.string().nullable() }).openapi("AlertList") } },
        description: "Newest first",
      },
      400: error("Bad query"),
      401: error("Reads are locked (REQUIRE_AUTH_FOR_READS) and no valid key was sent"),
      403: error("Reads are locked and no key is configured on the server"),
      429: error("Too many failed authentications from this address"),
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    return c.json(await listAlerts(c.var.db, query), 200);
  },
);
