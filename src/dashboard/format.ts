import cronstrue from "cronstrue";

/** Display helpers for the dashboard: pure, `now` passed in. */

/** "At 02:00 AM", "Every 15 minutes"; the expression itself if cronstrue cannot read it. */
export function describeCron(expression: string): string {
  try {
    return cronstrue.toString(expression, { throwExceptionOnParseError: true, verbose: false });
  } catch {
    return expression;
  }
}

const UNITS: [limitSeconds: number, divisor: number, unit: string][] = [
  [60, 1, "s"],
  [3_600, 60, "min"],
  [86_400, 3_600, "h"],
  [Infinity, 86_400, "d"],
];

/** "3 min ago", "in 5 h", "just now": the distance from `now`, rounded down to one unit. */
export function relativeTime(value: string | Date, now: Date): string {
  const deltaSeconds = Math.round((new Date(value).getTime() - now.getTime()) / 1000);
  const magnitude = Math.abs(deltaSeconds);
  if (magnitude < 5) return "just now";
  const [, divisor, unit] = UNITS.find(([limit]) => magnitude < limit)!;
  const amount = Math.floor(magnitude / divisor);
  return deltaSeconds < 0 ? `${amount} ${unit} ago` : `in ${amount} ${unit}`;
}

/** "2026-03-26 02:00:00 UTC": absolute, unambiguous, in UTC like the API. */
export function absoluteTime(value: string | Date): string {
  return new Date(value).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
}

/** "840 ms", "2.4 s", "3 min 5 s"; an em dash while unknown. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A result summary as "mentors_checked 87 · expired_found 2"; long values are cut. */
export function formatSummary(summary: Record<string, unknown> | null): string {
  if (!summary) return "";
  return Object.entries(summary)
    .map(([key, value]) => `${key} ${typeof value === "object" ? JSON.stringify(value) : String(value)}`.slice(0, 80))
    .join(" · ");
}
