import type { Db } from "../db/client";
import { keysetPaging } from "../lib/paging";
import * as present from "../presenters";
import { countOpenAlerts, listAlerts as listAlertRows } from "../repositories/alerts-repo";

export const alertPaging = keysetPaging("alert-");

/** Alerts newest first, a page at a time (`cursor`: the previous page's next_cursor). */
export async function listAlerts(db: Db, query: { state?: "open" | "resolved"; job_name?: string; limit: number; cursor?: string }) {
  const rows = await listAlertRows(db, { state: query.state, jobName: query.job_name, beforeId: alertPaging.before(query.cursor) }, query.limit + 1);
  return alertPaging.page(rows, query.limit, (row) => row.alertId, present.alert);
}

/** At most this many open alerts are listed by /health (the count is exact). */
export const HEALTH_ALERTS_SHOWN = 20;

/** The open alerts for /health, newest first. A job's alert is not a fault of the service: never a 503 by itself. */
export async function openAlertsForHealth(db: Db) {
  const [open, rows] = await Promise.all([countOpenAlerts(db), listAlertRows(db, { state: "open" }, HEALTH_ALERTS_SHOWN)]);
  return { open, listed: rows.map(present.alert) };
}
