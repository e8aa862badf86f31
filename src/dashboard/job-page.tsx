import type { getJob, listJobRuns } from "../services/jobs-service";
import { absoluteTime, describeCron, formatDuration, formatSummary, relativeTime } from "./format";
import { AlertHistory } from "./alerts";
import { Layout, StatusBadge, When } from "./layout";
import { RunChart } from "./run-chart";

type Job = Awaited<ReturnType<typeof getJob>>;
type Run = Awaited<ReturnType<typeof listJobRuns>>["data"][number];
type Alert = Job["open_alerts"][number];

/** How far a running run has got: a bar where the handler knows the total, a count where it does not. */
function RunProgress(props: { processed: number; total: number | null }) {
  const label = props.total === null ? `${props.processed} processed` : `${props.processed} of ${props.total}`;
  return (
    <span class="block" data-run-progress={label}>
      {props.total === null ? null : <progress value={props.processed} max={props.total} />} <span class="muted">{label}</span>
    </span>
  );
}

function Actions(props: { job: Job }) {
  return (
    <div
      class="job-actions"
      data-job-api={`/api/v1/scheduler/jobs/${encodeURIComponent(props.job.job_name)}`}
      data-job-version={String(props.job.version)}
    >
      <form id="token-form" class="actions" autocomplete="off">
        <label for="token">API token</label>
        <input id="token" type="password" placeholder="SCHEDULER_API_TOKEN" />
        <button type="submit">Use token</button>
        <span class="muted">kept in this tab only (sessionStorage)</span>
      </form>
      <p id="token-set" class="muted" hidden>
        Token set for this tab. <button type="button" id="token-forget">Forget token</button>
      </p>
      <div class="actions">
        <button type="button" class="primary" data-action="run">Run now</button>
        <button type="button" data-action="dry-run">Dry run</button>
        {props.job.is_active ? (
          <button type="button" data-action="pause">Pause</button>
        ) : (
          <button type="button" data-action="resume">Resume</button>
        )}
      </div>
      <p id="action-status" role="status" aria-live="polite"></p>
    </div>
  );
}

/** What the run delivered, linking to its notifications on the Deliveries page. */
function Deliveries(props: { jobName: string; run: Run }) {
  const d = props.run.deliveries;
  if (d.queued + d.sent + d.failed + d.dead === 0) return <span class="muted">—</span>;
  const href = `/deliveries?job_name=${encodeURIComponent(props.jobName)}&run_id=${encodeURIComponent(props.run.run_id)}`;
  return (
    <a href={href} class="run-deliveries">
      {d.sent} sent{d.queued ? ` · ${d.queued} queued` : ""}
      {d.failed ? ` · ${d.failed} failed` : ""}
      {d.dead ? ` · ${d.dead} dead` : ""}
    </a>
  );
}

function RunsTable(props: { runs: Run[]; now: Date; jobName: string }) {
  if (props.runs.length === 0) return <p class="card muted">This job has not run yet.</p>;
  return (
    <table id="runs">
      <thead>
        <tr>
          <th>Run</th>
          <th>Status</th>
          <th>Triggered by</th>
          <th>Started</th>
          <th>Duration</th>
          <th>Summary</th>
          <th>Deliveries</th>
        </tr>
      </thead>
      <tbody>
        {props.runs.map((run) => (
          <tr data-run-id={run.run_id} data-run-status={run.status}>
            <td data-label="Run">
              <code>{run.run_id}</code>
            </td>
            <td data-label="Status">
              <StatusBadge status={run.status} /> {run.dry_run ? <span class="badge dry">dry run</span> : null}
              {run.attempts > 1 ? <span class="muted block">{run.attempts} attempts</span> : null}
              {run.progress ? <RunProgress {...run.progress} /> : null}
            </td>
            <td data-label="Triggered by">{run.triggered_by}</td>
            <td data-label="Started">
              <When at={run.started_at} now={props.now} />
            </td>
            <td data-label="Duration">{formatDuration(run.duration_ms)}</td>
            <td data-label="Summary">
              {run.error ? <span class="failed badge">error</span> : null} {run.error?.message ?? formatSummary(run.result_summary)}
            </td>
            <td data-label="Deliveries">
              <Deliveries jobName={props.jobName} run={run} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** GET /jobs/:jobName: the job, its actions, a chart of recent runs, upcoming runs and run history. */
export function JobPage(props: { job: Job; runs: Run[]; alerts: Alert[]; now: Date }) {
  const { job, now } = props;
  const pausedByPolicy = job.is_active ? undefined : job.open_alerts.find((a) => a.kind === "paused_by_policy");
  return (
    <Layout title={job.job_name} script>
      <p class="muted">
        <a href="/">← All jobs</a>
      </p>
      <h1>
        {job.job_name}
        <span class={`badge ${job.is_active ? "active" : "paused"}`}>{job.is_active ? "active" : "paused"}</span>
      </h1>
      {pausedByPolicy ? (
        <p class="paused-reason" id="paused-by-policy">
          Paused by its policy (the system, not a person): {pausedByPolicy.message}
        </p>
      ) : null}
      <div class="grid">
        <section class="card">
          <dl class="facts">
            <dt>Schedule</dt>
            <dd>
              <code>{job.cron_expression}</code> {describeCron(job.cron_expression)} · {job.timezone}
            </dd>
            <dt>Handler</dt>
            <dd>
              <code>{job.handler}</code>
            </dd>
            <dt>Last run</dt>
            <dd>
              <StatusBadge status={job.last_run_status} /> <When at={job.last_run_at} now={now} absolute={false} />
            </dd>
            <dt>Policies</dt>
            <dd class="muted">
              overlap {job.overlap_policy} · misfire {job.misfire_policy} · retries {job.max_retries} · timeout {job.timeout_seconds} s
            </dd>
            <dt>Alerts</dt>
            <dd class="muted">
              {job.alerts_enabled ? "on" : "off"} · start within {job.start_deadline_seconds} s
              {job.finish_deadline_seconds === null ? "" : ` · finish within ${job.finish_deadline_seconds} s`} · after {job.alert_after_failures} failure(s)
              {job.pause_after_failures === null ? "" : ` · pause after ${job.pause_after_failures} failure(s)`}
            </dd>
          </dl>
          <Actions job={job} />
        </section>
        <section class="card">
          <h2 style="margin-top:0">Upcoming runs</h2>
          {job.upcoming_runs.length === 0 ? (
            <p class="muted">None: the job is paused.</p>
          ) : (
            <ol class="upcoming" id="upcoming">
              {job.upcoming_runs.map((at) => (
                <li>
                  <time datetime={at}>{absoluteTime(at)}</time> <span class="muted">{relativeTime(at, now)}</span>
                </li>
              ))}
            </ol>
          )}
        </section>
      </div>
      <h2>Recent runs</h2>
      <div class="card">
        <RunChart runs={props.runs} />
      </div>
      <div style="margin-top:1rem">
        <RunsTable runs={props.runs} now={now} jobName={job.job_name} />
      </div>
      <h2 id="alert-history">Alert history</h2>
      <AlertHistory alerts={props.alerts} now={now} />
    </Layout>
  );
}
