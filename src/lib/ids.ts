/** run_id is "run-" and the run's number within its job, at least four digits ("run-0094"). */
export function formatRunId(runNo: number): string {
  return `run-${String(runNo).padStart(4, "0")}`;
}

/** The run number in a run_id, or null if it is not one. */
export function parseRunId(runId: string): number | null {
  const match = /^run-(\d{1,15})$/.exec(runId);
  return match ? Number(match[1]) : null;
}
