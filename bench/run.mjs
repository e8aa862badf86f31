#!/usr/bin/env node
// `npm run bench`: firing precision, fan-out and API cost of the scheduler on
// the local runtime (wrangler dev), each against a bare Durable Object
// baseline measured in the same run. Writes bench-results.json (repo root).
//   npm run bench                        full run (1,000 / 100 / 5,000 jobs, 10 s loads)
//   BENCH_JOBS=100 node bench/run.mjs --smoke   every figure, small and quick (npm test)
// Sizes: BENCH_JOBS, BENCH_JOBS_100, BENCH_FANOUT, BENCH_DURATION (s), BENCH_PORT (8811-8818);
// BENCH_HANDLER=checkCertificationExpiry (or another built-in) gives the jobs a real handler
// instead of benchNoop, which does nothing (the default: the scheduler's own cost);
// BENCH_LOCAL_OBSERVABILITY=1 keeps wrangler's local trace collector on (as `npm run dev` has it);
// BENCH_SOURCE=<dir> measures the service from another working tree (a candidate change).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { client, sleep } from "./lib/http.mjs";
import * as phase from "./lib/phases.mjs";
import { KEYS, printReport } from "./lib/report.mjs";
import * as server from "./lib/server.mjs";
import { openD1File } from "./lib/d1-file.mjs";
import { configDrift } from "./lib/config-drift.mjs";
import { round } from "./lib/stats.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const smoke = process.argv.includes("--smoke");
const int = (name, fallback) => {
  const flag = process.argv.find((a) => a.startsWith(`--${name.toLowerCase().replace(/^bench_/, "").replace(/_/g, "-")}=`));
  const raw = flag?.split("=")[1] ?? process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
};

const jobs = int("BENCH_JOBS", smoke ? 100 : 1000);
const cfg = {
  jobs,
  jobs100: int("BENCH_JOBS_100", smoke ? jobs : 100),
  fanout: int("BENCH_FANOUT", smoke ? jobs : 5000),
  duration: int("BENCH_DURATION", smoke ? 2 : 10),
  port: int("BENCH_PORT", 8811),
  metered: smoke ? 3 : 10,
  triggerJobs: 20,
  // The handler every bench job runs: "benchNoop" (bench/worker.ts: does nothing), or a
  // built-in one (checkCertificationExpiry makes one D1 read on an empty platform dataset).
  handler: process.env.BENCH_HANDLER || phase.HANDLER,
  // wrangler dev's local trace collector (on by default for `npm run dev`) streams every
  // invocation, D1 call and console line to another worker on the same workerd thread.
  // It is a dev tool, not part of the Worker, so it is off unless asked for.
  localObservability: /^(1|true|on)$/i.test(process.env.BENCH_LOCAL_OBSERVABILITY ?? ""),
  connections: { list: 50, trigger: 20 },
};
if (!["checkCertificationExpiry", "liftExpiredPauses", "generateWeeklyExpiryReport", "benchNoop"].includes(cfg.handler)) {
  throw new Error(`BENCH_HANDLER must name a registered handler or benchNoop, got ${cfg.handler}`);
}
if (cfg.port < 8811 || cfg.port > 8818) throw new Error("BENCH_PORT must be 8811-8818 (the inspector takes the next port)");

/** Milliseconds per object armed, as last observed (starts generous; the trigger jobs calibrate it). */
const armRate = { job: 10, baseline: 10 };

const outDir = join(repo, "bench", "out");
mkdirSync(outDir, { recursive: true });
const logFile = join(outDir, "wrangler.log");
const log = (message) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const openFiles = Number(execFileSync("sh", ["-c", "ulimit -n"]).toString().trim()) || null;

const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
const details = { mode: smoke ? "smoke" : "full", config: cfg, ulimit_n: openFiles, machine: machine(), load_average_start: safe(loadAverage) };
const results = {};
let snap;
let srv;
let d1file; // direct read-only view of the D1 file, to see completion without asking the Worker
const began = Date.now();

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.killNow(srv);
    server.cleanup(snap);
    process.exit(130);
  });
}

try {
  log(`${smoke ? "smoke" : "full"} run: ${cfg.jobs} jobs (lateness), ${cfg.jobs100} (100-job p99), ${cfg.fanout} (fan-out); ulimit -n ${openFiles}`);
  if (openFiles !== null && openFiles < cfg.fanout * 3 + 1000) {
    log(`warning: each live object holds ~3 open files; ${cfg.fanout} objects need more than ulimit -n ${openFiles}`);
  }
  details.source = process.env.BENCH_SOURCE ?? "(this repository)";
  const source = process.env.BENCH_SOURCE ?? repo;
  details.config_drift = configDrift(join(source, "wrangler.toml"), join(repo, "bench", "wrangler.toml"));
  if (details.config_drift.length > 0) {
    log(`warning: bench/wrangler.toml lacks settings of wrangler.toml: ${details.config_drift.join("; ")}`);
  }
  snap = server.snapshot(repo, source);
  if (!smoke) await measureBundle(); // before the server starts: it is CPU-heavy
  await server.migrate(snap);
  if (process.env.BENCH_PORT === undefined) {
    // Without an explicit BENCH_PORT, take the first free pair (port, inspector) in 8811-8818,
    // so that `npm test` does not fail because another bench is running.
    for (const p of [8811, 8813, 8815, 8817]) {
      if (!(await server.listening(p)) && !(await server.listening(p + 1))) {
        cfg.port = p;
        break;
      }
    }
  }
  srv = await server.start(snap, { port: cfg.port, logFile, extraEnv: { X_LOCAL_OBSERVABILITY: String(cfg.localObservability) } });
  const api = client(srv.base);
  await api.get(`${phase.API}/jobs`); // as `npm run dev` does: starts the supervisor
  await api.post("/__bench/setup");
  d1file = await openD1File(snap.state);
  details.completion_observed_via = d1file ? "d1-file (50 ms polls)" : "bench route polls";
  log(`wrangler dev ready on ${srv.base} (state in ${snap.state}, log in ${logFile})`);

  const triggerNames = Array.from({ length: cfg.triggerJobs }, (_, i) => `trig-${String(i).padStart(5, "0")}`);
  const trig = await phase.registerJobs(api, { prefix: "trig", count: cfg.triggerJobs, cron: "0 0 29 2 *", overlap: "allow", handler: cfg.handler });
  details.register_trigger_jobs = observeArm("job", cfg.triggerJobs, trig.ms);
  armRate.baseline = armRate.job;

  if (smoke) await smokeRun(api, triggerNames);
  else await fullRun(api, triggerNames);
} catch (error) {
  details.error = String(error?.stack ?? error);
  console.error(`[bench] failed: ${details.error}`);
} finally {
  d1file?.close();
  await server.stop(srv);
  server.cleanup(snap);
}

details.seconds = round((Date.now() - began) / 1000, 1);
details.load_average_end = safe(loadAverage);
const missing = KEYS.filter((key) => !Number.isFinite(results[key]));
const ordered = Object.fromEntries(KEYS.map((key) => [key, Number.isFinite(results[key]) ? results[key] : null]));
writeFileSync(join(repo, "bench-results.json"), `${JSON.stringify(ordered, null, 2)}\n`);
writeFileSync(join(outDir, "bench-details.json"), `${JSON.stringify({ results: ordered, details }, null, 2)}\n`);
printReport(ordered, details, { smoke });
log(`wrote bench-results.json and bench/out/bench-details.json in ${details.seconds} s`);
if (missing.length > 0) {
  console.error(`[bench] missing figures: ${missing.join(", ")}`);
  process.exit(1);
}
process.exit(0);

// ---------------------------------------------------------------------------

async function measureBundle() {
  const size = await server.bundleSize(snap);
  results.bundle_gzip_kib = round(size.gzipKiB, 1);
  details.bundle = size;
  log(`bundle: ${size.gzipKiB.toFixed(1)} KiB gzipped (${size.rawKiB.toFixed(0)} KiB raw)`);
}

/**
 * The timeline: the fan-out jobs are registered first (so the API is measured
 * with 5,000 jobs while the first instant is awaited), then three instants a
 * minute apart: 100 jobs (I1), 1,000 jobs (I2), 5,000 jobs (I3). Every group
 * of objects is armed and left idle long enough to be evicted (about 10 s
 * locally), so jobs and baseline objects both fire cold, and never more than
 * one large group is alive at once (each live object holds ~3 open files).
 */
async function fullRun(api, triggerNames) {
  const poll = { lateness: 250, fanout: 100 };
  const apiBudgetMs = (3 * (cfg.duration + 1) + 15) * 1000;

  const i3 = phase.minuteAtOrAfter(Date.now() + estimateArmMs("job", cfg.fanout) + apiBudgetMs + 15_000 + 120_000);
  const i1 = i3 - 120_000;
  const i2 = i3 - 60_000;
  const registeredFan = await phase.registerJobs(api, { prefix: "fan", count: cfg.fanout, cron: phase.cronFor(i3), handler: cfg.handler });
  details.register_fanout = observeArm("job", cfg.fanout, registeredFan.ms);
  await phase.registerJobs(api, { prefix: "zz-metered", count: cfg.metered, cron: phase.cronFor(i3), metered: true, handler: cfg.handler });
  log(`${cfg.fanout} jobs (+${cfg.metered} metered) registered in ${registeredFan.ms} ms, due at ${iso(i3)}`);

  await measureApi(api, triggerNames);

  // 100 jobs at I1; 100 baseline objects 20 s later.
  if (Date.now() > i1 - 3_000) throw new Error(`the API figures took too long: no time left before ${iso(i1)}`);
  const registered100 = await phase.registerJobs(api, { prefix: "lat100", count: cfg.jobs100, cron: phase.cronFor(i1), handler: cfg.handler });
  details.register_100 = observeArm("job", cfg.jobs100, registered100.ms);
  const b1 = i1 + 20_000;
  details.arm_100_baseline = await phase.armBaseline(api, { phase: "base100", count: cfg.jobs100, at: b1 });
  log(`${cfg.jobs100} jobs due at ${iso(i1)}, ${cfg.jobs100} baseline objects at ${iso(b1)}`);
  const lat100 = await phase.observeJobs(api, { prefix: "lat100", count: cfg.jobs100, instant: i1, pollMs: poll.lateness, timeoutMs: 50_000, file: d1file });
  const base100 = await phase.observeBaseline(api, { phase: "base100", count: cfg.jobs100, at: b1, pollMs: poll.lateness, timeoutMs: 30_000, file: d1file });
  // For context: the same floor with objects still warm (armed 4 s before, not yet evicted).
  const bw = Date.now() + 4_000;
  await phase.armBaseline(api, { phase: "base100warm", count: cfg.jobs100, at: bw });
  const warm100 = await phase.observeBaseline(api, { phase: "base100warm", count: cfg.jobs100, at: bw, pollMs: poll.lateness, timeoutMs: 20_000, file: d1file });
  details.lateness_100 = { jobs: lat100, baseline: base100, baseline_warm: warm100 };
  results.fire_lateness_p99_ms_100 = lat100.lateness.p99;
  log(`${cfg.jobs100} jobs: p99 ${lat100.lateness.p99} ms (baseline ${base100.lateness.p99} ms cold, ${warm100.lateness.p99} ms warm)`);

  // 1,000 jobs at I2; 1,000 baseline objects 30 s later.
  const registered = await phase.registerJobs(api, { prefix: "lat", count: cfg.jobs, cron: phase.cronFor(i2), handler: cfg.handler });
  details.register_lateness = observeArm("job", cfg.jobs, registered.ms);
  const b2 = i2 + 30_000;
  details.arm_lateness_baseline = observeArm("baseline", cfg.jobs, (await phase.armBaseline(api, { phase: "base", count: cfg.jobs, at: b2 })).ms);
  log(`${cfg.jobs} jobs due at ${iso(i2)}, ${cfg.jobs} baseline objects at ${iso(b2)}`);
  if (Date.now() > i2 - 3_000) log("warning: the 1,000 jobs were armed less than 3 s before their instant");
  const lat = await phase.observeJobs(api, { prefix: "lat", count: cfg.jobs, instant: i2, pollMs: poll.lateness, timeoutMs: 28_000, file: d1file });
  const base = await phase.observeBaseline(api, { phase: "base", count: cfg.jobs, at: b2, pollMs: poll.lateness, timeoutMs: 25_000, file: d1file });
  recordLateness(lat, base);

  // 5,000 jobs at I3; then, their objects evicted, 5,000 baseline objects.
  const fan = await phase.observeJobs(api, { prefix: "fan", count: cfg.fanout, instant: i3, pollMs: poll.fanout, timeoutMs: 240_000, file: d1file });
  log(`${cfg.fanout} jobs: all recorded after ${fan.fanoutSeconds} s (lateness p99 ${fan.lateness.p99} ms)`);
  await recordWritesPerRun(api, i3);
  await sleep(12_000);
  const b3 = Date.now() + estimateArmMs("baseline", cfg.fanout) + 12_000;
  details.arm_fanout_baseline = await phase.armBaseline(api, { phase: "basefan", count: cfg.fanout, at: b3 });
  log(`${cfg.fanout} baseline objects due at ${iso(b3)}`);
  const baseFan = await phase.observeBaseline(api, { phase: "basefan", count: cfg.fanout, at: b3, pollMs: poll.fanout, timeoutMs: 120_000, file: d1file });
  recordFanout(fan, baseFan);
}

/** One instant for everything, and the API measured while waiting for it: proves every figure is produced. */
async function smokeRun(api, triggerNames) {
  const instant = phase.minuteAtOrAfter(Date.now() + 10_000);
  await phase.registerJobs(api, { prefix: "lat", count: cfg.jobs, cron: phase.cronFor(instant), handler: cfg.handler });
  await phase.registerJobs(api, { prefix: "zz-metered", count: cfg.metered, cron: phase.cronFor(instant), metered: true, handler: cfg.handler });
  const at = Date.now() + 5_000;
  await phase.armBaseline(api, { phase: "base", count: cfg.jobs, at });
  log(`${cfg.jobs} jobs due at ${iso(instant)}; ${cfg.jobs} baseline objects at ${iso(at)}`);
  await measureBundle();
  await measureApi(api, triggerNames);
  const base = await phase.observeBaseline(api, { phase: "base", count: cfg.jobs, at, pollMs: 100, timeoutMs: 60_000, file: d1file });
  const lat = await phase.observeJobs(api, { prefix: "lat", count: cfg.jobs, instant, pollMs: 100, timeoutMs: 90_000, file: d1file });
  recordLateness(lat, base);
  results.fire_lateness_p99_ms_100 = lat.lateness.p99;
  recordFanout(lat, base);
  await recordWritesPerRun(api, instant);
}

function warnIfFailed(result, count, what) {
  if (result.succeeded < count) log(`warning: only ${result.succeeded} of ${count} ${what} runs succeeded (see bench/out/wrangler.log)`);
}

function recordLateness(lat, base) {
  warnIfFailed(lat, lat.lateness.n, "lateness");
  details.lateness = { jobs: lat, baseline: base };
  results.fire_lateness_p50_ms = lat.lateness.p50;
  results.fire_lateness_p99_ms = lat.lateness.p99;
  results.fire_lateness_max_ms = lat.lateness.max;
  results.baseline_fire_lateness_p99_ms = base.lateness.p99;
  results.fire_lateness_ratio = round(lat.lateness.p99 / Math.max(1, base.lateness.p99), 3);
  log(`${lat.lateness.n} jobs: p50 ${lat.lateness.p50} / p99 ${lat.lateness.p99} / max ${lat.lateness.max} ms; baseline p99 ${base.lateness.p99} ms`);
}

function recordFanout(fan, base) {
  warnIfFailed(fan, fan.lateness.n, "fan-out");
  details.fanout = { jobs: fan, baseline: base };
  results.fanout_seconds = round(fan.fanoutSeconds, 2);
  results.baseline_fanout_seconds = round(base.fanoutSeconds, 2);
  results.fanout_ratio = round(fan.fanoutSeconds / base.fanoutSeconds, 3);
  log(`fan-out: ${fan.fanoutSeconds} s (baseline ${base.fanoutSeconds} s)`);
}

/** D1 rows written (and read, and round trips) per scheduled run, from the metered job objects. */
async function recordWritesPerRun(api, instant) {
  const { totals } = await api.get(`/__bench/meter/jobs?prefix=zz-metered&count=${cfg.metered}`);
  if (totals.some((t) => t === null)) throw new Error("a metered job object has no D1 totals: its run did not happen");
  const mean = (key) => totals.reduce((sum, t) => sum + t[key], 0) / totals.length;
  details.per_scheduled_run = {
    runs: totals.length,
    instant: iso(instant),
    rows_written: mean("rowsWritten"),
    rows_read: mean("rowsRead"),
    d1_round_trips: mean("roundTrips"),
    statements: mean("statements"),
  };
  results.d1_writes_per_run = round(mean("rowsWritten"), 2);
  log(`per scheduled run: ${JSON.stringify(details.per_scheduled_run)}`);
}

async function measureApi(api, triggerNames) {
  const rows = await api.get(`/__bench/meter/list?page=1&limit=20`);
  details.list_meter = rows;
  results.list_rows_read_per_request = rows.rowsRead;
  log(`GET /jobs?limit=20 with ${rows.total} jobs: ${rows.rowsRead} rows read in ${rows.roundTrips} D1 round trips`);

  const list = await phase.listVsNoop(api, { connections: cfg.connections.list, duration: cfg.duration });
  details.throughput = list;
  results.list_vs_noop_throughput = round(list.ratio, 3);
  log(`throughput: list ${list.list.rps.toFixed(0)} req/s, no-op ${list.noop.rps.toFixed(0)} req/s`);

  const trigger = await phase.triggerLatency(api, { names: triggerNames, connections: cfg.connections.trigger, duration: cfg.duration });
  details.trigger = trigger;
  if (trigger.accepted > 0) results.trigger_latency_p99_ms = round(trigger.p99, 1);
  log(`trigger: ${trigger.accepted} accepted (202), p99 ${trigger.p99} ms; statuses ${JSON.stringify(trigger.statuses)}`);
}

function observeArm(kind, count, ms) {
  armRate[kind] = Math.max(1, ms / count);
  return { ms, per_object_ms: round(ms / count, 2) };
}
/** How long arming `count` objects should take, with room to spare: an instant is never set before its objects are armed. */
function estimateArmMs(kind, count) {
  return count * armRate[kind] * 1.5 + 2_000;
}

function iso(ms) {
  return new Date(ms).toISOString();
}

function safe(fn) {
  try {
    return fn();
  } catch {
    return null;
  }
}

function machine() {
  const cpu = cpus();
  return { cpus: cpu.length, model: cpu[0]?.model ?? "unknown", memory_gib: round(totalmem() / 2 ** 30, 1), node: process.version };
}

