import { z } from "@hono/zod-openapi";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { AppEnv } from "../app-env";
import { clock } from "../lib/clock";
import { ApiError } from "../lib/errors";
import { readsLocked } from "../lib/settings";
import { JobNameSchema } from "../routes/schemas";
import { listAlerts, openAlertsForHealth } from "../services/alerts-service";
import { getJob, listJobRuns, listJobs } from "../services/jobs-service";
import { OpenAlertsContext } from "./alerts";
import { deliveryConfig } from "../delivery/config";
import { deliveryCounts } from "../services/delivery-service";
import { DeliveriesPage, ReportPage, ReportsPage } from "./delivery-pages";
import { JobPage } from "./job-page";
import { JobsPage } from "./jobs-page";
import { ACTIONS_SCRIPT } from "./actions-script";
import { DELIVERY_SCRIPT } from "./delivery-script";
import { TOKEN_SCRIPT } from "./token-script";
import { DASHBOARD_CSS, Layout } from "./layout";

const JOBS_PER_PAGE = 50;
const RUNS_SHOWN = 30;
// A person typed this URL: a bad page number shows page 1 rather than an error.
const PageQuery = z.object({ page: z.coerce.number().int().min(1).max(1_000_000).catch(1) });

function Message(props: { title: string; children: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p class="card">{props.children}</p>
      <p>
        <a href="/">← All jobs</a>
      </p>
    </Layout>
  );
}

const ALERTS_SHOWN = 20;

/** Renders a page with the open alerts in its context, so every page shows the banner while any is open. */
async function render(c: Context<AppEnv>, node: JSX.Element, status: 200 | 404 = 200) {
  const alerts = await openAlertsForHealth(c.var.db);
  return c.html(<OpenAlertsContext.Provider value={alerts}>{node}</OpenAlertsContext.Provider>, status);
}

// Scoped to the dashboard's own routes (not use("*"), which would reach every path of the app).
const pageGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.header("Cache-Control", "no-store");
  // A page load cannot carry a bearer token, so when reads need one the dashboard stays shut.
  if (readsLocked(c.env)) {
    return c.html(
      <Message title="Dashboard off">
        This server requires a token for reads (REQUIRE_AUTH_FOR_READS is "true"), so the dashboard, which cannot send one, is off. Use the API with a bearer token.
      </Message>,
      403,
    );
  }
  await next();
};

/**
 * The dashboard: server-rendered HTML at / and /jobs/:jobName, read through
 * the same services as the API. Outside /api/v1/scheduler, so no API path can clash.
 */
export const dashboardRoutes = new Hono<AppEnv>()
  // The page's style and script as files on this origin (CSP: 'self', nothing inline).
  .get("/dashboard.css", (c) => c.body(DASHBOARD_CSS, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=300" }))
  .get("/dashboard.js", (c) =>
    c.body(TOKEN_SCRIPT + ACTIONS_SCRIPT + DELIVERY_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300" }),
  )
  .get("/", pageGuard, async (c) => {
    const { page } = PageQuery.parse({ page: c.req.query("page") });
    const list = await listJobs(c.var.db, page, JOBS_PER_PAGE);
    return render(c, <JobsPage list={list} now={clock.now()} />);
  })
  .get("/jobs/:jobName", pageGuard, async (c) => {
    const name = c.req.param("jobName");
    const notFound = () => render(c, <Message title="Job not found">{`No job named "${name}" is registered.`}</Message>, 404);
    if (!JobNameSchema.safeParse(name).success) return notFound();
    try {
      const [job, runs, alerts] = await Promise.all([
        getJob(c.var.db, name),
        listJobRuns(c.var.db, name, RUNS_SHOWN),
        listAlerts(c.var.db, { job_name: name, limit: ALERTS_SHOWN }),
      ]);
      return render(c, <JobPage job={job} runs={runs.data} alerts={alerts.data} now={clock.now()} />);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return notFound();
      throw error;
    }
  })
  .get("/deliveries", pageGuard, async (c) => {
    const runId = c.req.query("run_id");
    const jobName = c.req.query("job_name");
    const filter = runId ? `Notifications of ${jobName ?? ""} ${runId}`.replace("  ", " ") : null;
    return render(c, <DeliveriesPage counts={await deliveryCounts(c.var.db)} problems={deliveryConfig(c.env).problems} filter={filter} />);
  })
  .get("/reports", pageGuard, (c) => render(c, <ReportsPage />))
  .get("/reports/:id{[0-9]{1,15}}", pageGuard, (c) => render(c, <ReportPage reportId={Number(c.req.param("id"))} />));
