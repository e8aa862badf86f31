/**
 * Structured logs: one JSON object per line, so Workers Logs can filter on
 * any field (event, job_name, run_id, status, request_id ...).
 */
export function logEvent(event: string, fields: Record<string, unknown>, level: "info" | "warn" | "error" = "info"): void {
  const line = JSON.stringify({ event, level, at: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
