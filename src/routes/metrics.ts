import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { prometheusText, PROMETHEUS_CONTENT_TYPE } from "../services/metrics-service";
import { ErrorSchema } from "./schemas";
import { validationHook } from "./validation";

const error = (description: string) => ({ content: { "application/json": { schema: ErrorSchema } }, description });

/** GET /metrics: the Prometheus scrape. A read: public unless REQUIRE_AUTH_FOR_READS, then a bearer key with the read role. */
export const metricsRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(
  createRoute({
    method: "get",
    path: "/metrics",
    operationId: "getMetrics",
    summary: "Prometheus metrics (text exposition format 0.0.4): per-job run times, counters, open alerts, the outbox",
    responses: {
      200: {
        content: { "text/plain": { schema: z.string().openapi({ example: '# HELP scheduler_job_runs_total Runs finished, by status\n# TYPE scheduler_job_runs_total counter\nscheduler_job_runs_total{job="certification-expiry-nightly",status="success"} 42\n' }) } },
        description: "Prometheus text format, version 0.0.4 (docs/alerts.md lists the series)",
      },
      401: error("Reads are locked (REQUIRE_AUTH_FOR_READS) and no valid key was sent"),
      403: error("Reads are locked and no key is configured on the server"),
      429: error("Too many failed authentications from this address"),
    },
  }),
  async (c) => {
    c.header("Cache-Control", "no-store");
    return c.text(await prometheusText(c.var.db), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
  },
);
