// The figures' keys (bench-results.json), their targets, and the printed table.

export const KEYS = [
  "fire_lateness_p50_ms",
  "fire_lateness_p99_ms",
  "fire_lateness_max_ms",
  "baseline_fire_lateness_p99_ms",
  "fire_lateness_ratio",
  "fire_lateness_p99_ms_100",
  "baseline_fire_lateness_p99_ms_100",
  "fire_lateness_ratio_100",
  "fire_lateness_ratio_100_pass1",
  "fire_lateness_ratio_100_pass2",
  "fire_lateness_ratio_100_pass3",
  "fanout_seconds",
  "baseline_fanout_seconds",
  "fanout_ratio",
  "fanout_ratio_pass1",
  "fanout_ratio_pass2",
  "fanout_ratio_pass3",
  "list_rows_read_per_request",
  "list_vs_noop_throughput",
  "trigger_latency_p99_ms",
  "bundle_gzip_kib",
  "d1_writes_per_run",
];

/**
 * Targets (issue 6, revised by issue 10): [comparison, bound]. Every timing target
 * is a ratio to the bare runtime measured in the same run, because an absolute time
 * does not hold on a shared machine; the two noisiest are medians of three passes.
 */
export const TARGETS = {
  fire_lateness_ratio: ["<=", 1.25],
  fire_lateness_ratio_100: ["<=", 1.25],
  fanout_ratio: ["<=", 1.5],
  list_rows_read_per_request: ["<=", 30],
  list_vs_noop_throughput: [">=", 0.5],
  bundle_gzip_kib: ["<=", 250],
};

/** The figures of one pass each: a smoke run has one pass, so the others stay empty there. */
export const PER_PASS = /_pass[2-9]$/;

export function verdict(key, value) {
  const target = TARGETS[key];
  if (!target) return "";
  if (value === null || !Number.isFinite(value)) return "MISSING";
  const [op, bound] = target;
  return (op === "<=" ? value <= bound : value >= bound) ? "PASS" : "FAIL";
}

export function printReport(results, details, { smoke }) {
  const rows = KEYS.map((key) => {
    const target = TARGETS[key];
    // A smoke run's sizes and timeline prove only that each figure is produced, so no verdicts.
    const result = smoke && results[key] !== null ? "" : verdict(key, results[key]);
    return [key, results[key] === null ? "—" : String(results[key]), target ? `${target[0]} ${target[1]}` : "report", result];
  });
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), ["key", "value", "target", "result"][i].length));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log("");
  console.log(`Nightly Scheduler benchmark (${smoke ? "smoke: figures only, targets not asserted" : "full"})`);
  console.log(line(["key", "value", "target", "result"]));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
  const sizes = details.config;
  console.log(
    `\nsizes: ${sizes.jobs} jobs (lateness), ${sizes.jobs100} (100-job lateness), ${sizes.fanout} (fan-out), ` +
      `${sizes.passes} pass(es) of the 100-job and fan-out figures (the median is the figure), ` +
      `${sizes.duration} s per load; handler ${sizes.handler}; wrangler's local trace collector ${sizes.localObservability ? "on" : "off"}; ` +
      `ulimit -n ${details.ulimit_n}; ${details.machine.cpus} CPUs (${details.machine.model}); load ${details.load_average_start?.[0] ?? "?"}`,
  );
  if (details.error) console.log(`error: ${details.error.split("\n")[0]}`);
}
