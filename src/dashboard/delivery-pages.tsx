import type { OutboxStatus } from "../db/platform-schema";
import { Layout } from "./layout";

/** The token prompt of the pages whose data needs it (personal data). */
function TokenForm() {
  return (
    <>
      <form id="token-form" class="actions" autocomplete="off" hidden>
        <label for="token">API token</label>
        <input id="token" type="password" placeholder="SCHEDULER_API_TOKEN" />
        <button type="submit">Use token</button>
        <span class="muted">kept in this tab only (sessionStorage); notifications and reports carry personal data</span>
      </form>
      <p id="action-status" role="status" aria-live="polite"></p>
    </>
  );
}

/** GET /deliveries: the outbox by status (no personal data), then failures with reasons and Retry (token). */
export function DeliveriesPage(props: { counts: Record<OutboxStatus, number>; problems: string[]; filter: string | null }) {
  return (
    <Layout title="Deliveries" script>
      <h1>Deliveries</h1>
      {props.problems.length > 0 ? (
        <div class="card failed" id="delivery-problems">
          <strong>Nothing is being sent: delivery is misconfigured.</strong>
          <ul>
            {props.problems.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <table id="delivery-counts">
        <thead>
          <tr>
            {Object.keys(props.counts).map((status) => (
              <th>{status}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            {Object.entries(props.counts).map(([status, n]) => (
              <td data-label={status} data-status={status}>
                {n}
              </td>
            ))}
          </tr>
        </tbody>
      </table>
      <h2>{props.filter ?? "Recent failures"}</h2>
      <div data-view="deliveries">
        <TokenForm />
        <div id="failures"></div>
      </div>
    </Layout>
  );
}

/** GET /reports: stored reports (token). */
export function ReportsPage() {
  return (
    <Layout title="Reports" script>
      <h1>Reports</h1>
      <div data-view="reports">
        <TokenForm />
        <div id="reports"></div>
      </div>
    </Layout>
  );
}

/** GET /reports/:id: one weekly report as tables (token). */
export function ReportPage(props: { reportId: number }) {
  return (
    <Layout title={`Report ${props.reportId}`} script>
      <p class="muted">
        <a href="/reports">← All reports</a>
      </p>
      <h1>Report {props.reportId}</h1>
      <div data-view="report" data-report-id={String(props.reportId)}>
        <TokenForm />
        <div id="report"></div>
      </div>
    </Layout>
  );
}
