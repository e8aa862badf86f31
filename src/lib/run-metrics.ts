/**
 * One Analytics Engine data point per finished run (binding RUN_METRICS), for
 * charts over time (Grafana, the SQL API; docs/alerts.md has the queries).
 * The layout is the dataset's schema: change it only by adding fields at the end.
 *
 * - index1: the job name (AE samples per index, so each job keeps its own sample);
 * - blob1 job name, blob2 status ("success" | "failed"), blob3 trigger kind
 *   ("scheduled" | "catch_up" | "manual"), blob4 run id;
 * - double1 duration in ms, double2 lateness in ms (its start after its instant;
 *   0 for a manual run), double3 attempts.
 */
export interface FinishedRunMetric {
  jobName: string;
  runId: string;
  status: "success" | "failed";
  scheduledFor: number | null;
  catchUp: boolean;
  startedAt: number;
  durationMs: number;
  attempts: number;
}

export type TriggerKind = "scheduled" | "catch_up" | "manual";

export function runDataPoint(run: FinishedRunMetric): AnalyticsEngineDataPoint {
  const trigger: TriggerKind = run.scheduledFor === null ? "manual" : run.catchUp ? "catch_up" : "scheduled";
  const latenessMs = run.scheduledFor === null ? 0 : Math.max(0, run.startedAt - run.scheduledFor);
  return {
    indexes: [run.jobName],
    blobs: [run.jobName, run.status, trigger, run.runId],
    doubles: [run.durationMs, latenessMs, run.attempts],
  };
}
