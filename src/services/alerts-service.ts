import type { Db } from "../db/client";
import * as present from "../presenters";
import { countOpenAlerts, listAlerts as listAlertRows, type AlertFilter } from "../repositories/alerts-repo";

export const alertCursor = (alertId: number) => `alert-${alertId}`;

/** Alerts newest first, a page at a time (`cursor`: the previous page's next_cursor). */
export async function listAlerts(db: Db, query: { state?: "open" | "resolved"; job_name?: string; limit: number; cursor?: string }) {
  const filter: AlertFilter = { state: query.state, jobName: query.job_name };
  if (query.cursor !== undefined) filter.beforeId = Number(query.cursor.slice("alert-".length));
  const rows = await listAlertRows(db, filter, query.limit + 1);
  const page = rows.slice(0, query.limit);
  return { data: page.map(present.alert), next_cursor: rows.length > query.limit ? alertCursor(page[page.length - 1]!.alertId) : null };
}

/** At most this many open alerts are listed by /health (the count is exact). */
export const HEALTH_ALERTS_SHOWN = 20;

/** The open alerts for /health, newest first. A job's alert is not a fault of the service: never a 503 by itself. */
export async function openAlertsForHealth(db: Db) {
  const [open, rows] = await Promise.all([countOpenAlerts(db), listAlertRows(db, { state: "open" }, HEALTH_ALERTS_SHOWN)]);
  return { open, listed: rows.map(present.alert) };
}
