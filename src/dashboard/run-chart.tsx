import { absoluteTime, formatDuration } from "./format";

export interface ChartRun {
  run_id: string;
  status: string;
  started_at: string;
  duration_ms: number | null;
  dry_run: boolean;
}

const COLOURS: Record<string, string> = { success: "#2f9e5b", failed: "#d0392e", running: "#3868d6", skipped: "#a3aab8" };
const WIDTH = 900;
const HEIGHT = 160;
const PLOT_TOP = 18;
const PLOT_BOTTOM = 136;

/**
 * Run durations over time as bars, oldest on the left, coloured by outcome.
 * Heights use a square-root scale so a single slow run does not flatten the rest.
 */
export function RunChart(props: { runs: ChartRun[] }) {
  const runs = [...props.runs].reverse();
  if (runs.length === 0) return <p class="muted">No runs yet: the chart fills in as the job runs.</p>;
  const max = Math.max(1, ...runs.map((r) => r.duration_ms ?? 0));
  const slot = WIDTH / Math.max(runs.length, 10);
  const barWidth = Math.max(3, slot * 0.7);
  const plotHeight = PLOT_BOTTOM - PLOT_TOP;
  return (
    <figure style="margin:0">
      <svg class="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Durations of the last ${runs.length} runs`}>
        <line x1="0" x2={WIDTH} y1={PLOT_BOTTOM} y2={PLOT_BOTTOM} stroke="#c5ccd8" />
        <line x1="0" x2={WIDTH} y1={PLOT_TOP} y2={PLOT_TOP} stroke="#eef1f6" stroke-dasharray="4 4" />
        <text x="2" y={PLOT_TOP - 3} font-size="12" fill="#5c6578">
          {formatDuration(max)}
        </text>
        {runs.map((run, i) => {
          const h = Math.max(2, Math.sqrt((run.duration_ms ?? 0) / max) * plotHeight);
          const x = i * slot + (slot - barWidth) / 2;
          return (
            <rect
              data-run-id={run.run_id}
              x={x.toFixed(1)}
              y={(PLOT_BOTTOM - h).toFixed(1)}
              width={barWidth.toFixed(1)}
              height={h.toFixed(1)}
              rx="2"
              fill={COLOURS[run.status] ?? "#a3aab8"}
              fill-opacity={run.dry_run ? "0.45" : "1"}
            >
              <title>{`${run.run_id} · ${run.status}${run.dry_run ? " (dry run)" : ""} · ${formatDuration(run.duration_ms)} · ${absoluteTime(run.started_at)}`}</title>
            </rect>
          );
        })}
        <text x="2" y={HEIGHT - 4} font-size="12" fill="#5c6578">
          {absoluteTime(runs[0]!.started_at)}
        </text>
        <text x={WIDTH - 2} y={HEIGHT - 4} font-size="12" fill="#5c6578" text-anchor="end">
          {absoluteTime(runs[runs.length - 1]!.started_at)}
        </text>
      </svg>
      <figcaption class="muted">
        Duration per run, oldest left. <span style={`color:${COLOURS.success}`}>■</span> success{" "}
        <span style={`color:${COLOURS.failed}`}>■</span> failed <span style={`color:${COLOURS.running}`}>■</span> running{" "}
        <span style={`color:${COLOURS.skipped}`}>■</span> skipped; pale bars are dry runs.
      </figcaption>
    </figure>
  );
}
