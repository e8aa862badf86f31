import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { access, errors } from "../openapi/operations";
import { prometheusText, PROMETHEUS_CONTENT_TYPE } from "../services/metrics-service";
import { validationHook } from "./validation";

/** GET /metrics: the Prometheus scrape. A read: public unless REQUIRE_AUTH_FOR_READS, then a bearer key with the read role. */
export const metricsRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(
  createRoute({
    method: "get",
    path: "/metrics",
    operationId: "getMetrics",
    summary: "Prometheus metrics (text exposition format 0.0.4): per-job run times, counters, open alerts, the outbox",
    ...access("public-read", "Scrape it with a `read` key (bearer token) when reads are locked."),
    responses: {
      200: {
        content: { "text/plain": { schema: z.string().openapi({ example: '# HELP scheduler_job_runs_total Runs finished, by status\n# TYPE scheduler_job_runs_total counter\nscheduler_job_runs_total{job="certification-expiry-nightly",status="success"} 42\n' }) } },
        description: "Prometheus text format, version 0.0.4 (docs/alerts.md lists the series)",
      },
      ...errors("public-read"),
    },
  }),
  async (c) => {
    c.header("Cache-Control", "no-store");
    return c.text(await prometheusText(c.var.db), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
  },
);
