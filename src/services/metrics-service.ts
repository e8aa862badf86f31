import type { Db } from "../db/client";
import { OUTBOX_STATUSES } from "../db/platform-schema";
import { jobMetrics, openAlertCounts, runCounts } from "../repositories/metrics-repo";
import { countByStatus } from "../repositories/outbox-repo";
import { ALERT_KINDS } from "../scheduler/alert-rules";

/** The Prometheus text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const RUN_STATUSES = ["success", "failed", "skipped"] as const;

type Labels = Record<string, string>;
interface Family {
  name: string;
  help: string;
  type: "gauge" | "counter";
  samples: { labels: Labels; value: number }[];
}

// Label values escape backslash, double quote and line feed (the format's only escapes).
const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const seconds = (iso: string | null) => (iso === null ? null : Date.parse(iso) / 1000);

function render(families: Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const { labels, value } of family.samples) {
      const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      lines.push(`${family.name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${value}`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * Every series /metrics serves. Labels are job names, statuses and alert
 * kinds only (never run ids), so the number of series grows with jobs alone.
 * A timestamp a job does not have yet (never run, never succeeded) is left out.
 */
export async function prometheusText(db: Db): Promise<string> {
  const [jobs, counts, alerts, notifications] = await Promise.all([jobMetrics(db), runCounts(db), openAlertCounts(db), countByStatus(db)]);
  const perJob = (pick: (row: (typeof jobs)[number]) => number | null) =>
    jobs.flatMap((row) => {
      const value = pick(row);
      return value === null ? [] : [{ labels: { job: row.jobName }, value }];
    });
  const total = new Map(counts.map((c) => [`${c.jobName}\n${c.status}`, c.total]));
  const open = new Map(alerts.map((a) => [`${a.jobName}\n${a.kind}`, a.open]));
  return render([
    {
      name: "scheduler_job_last_success_timestamp_seconds",
      help: "When the job's last successful run finished (Unix seconds).",
      type: "gauge",
      samples: perJob((row) => seconds(row.lastSuccessAt)),
    },
    {
      name: "scheduler_job_last_run_timestamp_seconds",
      help: "When the job's last run started (Unix seconds).",
      type: "gauge",
      samples: perJob((row) => seconds(row.lastRunAt)),
    },
    {
      name: "scheduler_job_next_run_timestamp_seconds",
      help: "The job's next scheduled instant (Unix seconds); absent while it is paused.",
      type: "gauge",
      samples: perJob((row) => seconds(row.nextRunAt)),
    },
    {
      name: "scheduler_job_runs_total",
      help: "Runs finished, by status (skipped: a scheduled instant not run); dry runs are not counted.",
      type: "counter",
      samples: jobs.flatMap((row) => RUN_STATUSES.map((status) => ({ labels: { job: row.jobName, status }, value: total.get(`${row.jobName}\n${status}`) ?? 0 }))),
    },
    {
      name: "scheduler_job_last_duration_seconds",
      help: "How long the job's last finished run took.",
      type: "gauge",
      samples: perJob((row) => (row.lastDurationMs === null ? null : row.lastDurationMs / 1000)),
    },
    {
      name: "scheduler_alerts_open",
      help: "Open alerts, by job and kind (0 or 1: one open alert per job and kind).",
      type: "gauge",
      samples: jobs.flatMap((row) => ALERT_KINDS.map((kind) => ({ labels: { job: row.jobName, kind }, value: open.get(`${row.jobName}\n${kind}`) ?? 0 }))),
    },
    {
      name: "scheduler_notifications",
      help: "Notifications in the outbox, by delivery status (sent rows are pruned after NOTIFICATION_RETENTION_DAYS).",
      type: "gauge",
      samples: OUTBOX_STATUSES.map((status) => ({ labels: { status }, value: notifications[status] })),
    },
  ]);
}
