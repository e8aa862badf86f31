import type { listJobs } from "../services/jobs-service";
import { describeCron } from "./format";
import { Layout, StatusBadge, When } from "./layout";

type JobList = Awaited<ReturnType<typeof listJobs>>;

/** GET /: every job, one row each, with its schedule in words and its last and next run. */
export function JobsPage(props: { list: JobList; now: Date }) {
  const { data, pagination } = props.list;
  const pages = Math.max(1, Math.ceil(pagination.total / pagination.limit));
  return (
    <Layout title="Jobs">
      <h1>
        Jobs <span class="muted">{pagination.total} registered</span>
      </h1>
      {data.length === 0 ? (
        <p class="card">
          No jobs on this page. Register one with <code>POST /api/v1/scheduler/jobs</code> (see the <a href="/docs">API reference</a>).
        </p>
      ) : (
        <table id="jobs">
          <thead>
            <tr>
              <th>Job</th>
              <th>Schedule</th>
              <th>State</th>
              <th>Last run</th>
              <th>Next run</th>
            </tr>
          </thead>
          <tbody>
            {data.map((job) => (
              <tr data-job={job.job_name}>
                <td data-label="Job">
                  <a href={`/jobs/${encodeURIComponent(job.job_name)}`}>{job.job_name}</a>
                </td>
                <td data-label="Schedule">
                  <code>{job.cron_expression}</code>
                  <span class="muted block">
                    {describeCron(job.cron_expression)} · {job.timezone}
                  </span>
                </td>
                <td data-label="State">
                  <span class={`badge ${job.is_active ? "active" : "paused"}`}>{job.is_active ? "active" : "paused"}</span>
                </td>
                <td data-label="Last run">
                  <StatusBadge status={job.last_run_status} /> <When at={job.last_run_at} now={props.now} />
                </td>
                <td data-label="Next run">
                  <When at={job.next_run_at} now={props.now} absolute={false} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pages > 1 ? (
        <p class="actions">
          {pagination.page > 1 ? <a href={`/?page=${pagination.page - 1}`}>← Previous</a> : null}
          <span class="muted">
            Page {pagination.page} of {pages}
          </span>
          {pagination.page < pages ? <a href={`/?page=${pagination.page + 1}`}>Next →</a> : null}
        </p>
      ) : null}
      <p class="muted">Times are shown relative to {props.now.toISOString().slice(0, 19).replace("T", " ")} UTC, when this page was made.</p>
    </Layout>
  );
}
