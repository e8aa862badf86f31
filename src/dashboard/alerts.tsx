import { createContext, useContext } from "hono/jsx";
import type { openAlertsForHealth } from "../services/alerts-service";
import type { AlertRow } from "../db/alerts-schema";
import type * as present from "../presenters";
import { absoluteTime, relativeTime } from "./format";

type Alert = ReturnType<typeof present.alert>;
type OpenAlerts = Awaited<ReturnType<typeof openAlertsForHealth>>;

/** The open alerts, given to every page by the route that renders it (src/dashboard/routes.tsx). */
export const OpenAlertsContext = createContext<OpenAlerts | null>(null);

const KIND: Record<AlertRow["kind"], string> = { missed: "missed", late: "late", failing: "failing", paused_by_policy: "paused by policy" };
const BANNER_NAMES = 3;

/** On every page while any alert is open: how many, and the newest few, each linking to its job. */
export function AlertBanner() {
  const alerts = useContext(OpenAlertsContext);
  if (!alerts || alerts.open === 0) return null;
  const shown = alerts.listed.slice(0, BANNER_NAMES);
  return (
    <div class="alert-banner" role="alert" id="alert-banner" data-open-alerts={String(alerts.open)}>
      <strong>
        {alerts.open} open alert{alerts.open === 1 ? "" : "s"}:
      </strong>{" "}
      {shown.map((a, i) => (
        <>
          {i > 0 ? " · " : null}
          <a href={`/jobs/${encodeURIComponent(a.job_name)}#alerts`}>{a.job_name}</a> {KIND[a.kind]}
        </>
      ))}
      {alerts.open > shown.length ? <> · and {alerts.open - shown.length} more</> : null}{" "}
      <a class="muted-link" href="/api/v1/scheduler/alerts?state=open">
        all open alerts
      </a>
    </div>
  );
}

/** The job page's alert history: newest first, open ones marked. */
export function AlertHistory(props: { alerts: Alert[]; now: Date }) {
  if (props.alerts.length === 0) return <p class="muted">No alerts: every instant ran on time and succeeded.</p>;
  return (
    <table id="alerts">
      <thead>
        <tr>
          <th>Kind</th>
          <th>Opened</th>
          <th>Resolved</th>
          <th>What happened</th>
        </tr>
      </thead>
      <tbody>
        {props.alerts.map((a) => (
          <tr data-alert-id={a.alert_id} data-alert-state={a.resolved_at === null ? "open" : "resolved"}>
            <td data-label="Kind">
              <span class={`badge ${a.resolved_at === null ? "failed" : "skipped"}`}>{KIND[a.kind]}</span>
            </td>
            <td data-label="Opened">
              <time datetime={a.opened_at} title={absoluteTime(a.opened_at)}>
                {relativeTime(a.opened_at, props.now)}
              </time>
            </td>
            <td data-label="Resolved">
              {a.resolved_at === null ? (
                <strong>open</strong>
              ) : (
                <time datetime={a.resolved_at} title={a.resolution ?? ""}>
                  {relativeTime(a.resolved_at, props.now)}
                </time>
              )}
            </td>
            <td data-label="What happened">
              {a.message}
              {a.resolution ? <span class="muted block">Resolved: {a.resolution}</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
