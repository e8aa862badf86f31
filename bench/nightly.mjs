#!/usr/bin/env node
// `npm run bench:nightly`: the nightly certification check on a large platform
// (1,000,000 mentors by default), on the local runtime, 127.0.0.1 only, at most 8 minutes.
//   1. a frozen copy of the tree, D1 migrated, the large platform loaded straight into its file;
//   2. a bare chunked scan of the same rows (GET /__bench/scan, one page per request);
//   3. the real run, triggered through the API and polled through GET /jobs/:jobName/runs,
//      while the dev server's resident memory is sampled from /proc and GET /jobs is timed;
//   4. resume: effects reset, a second run triggered, the dev server killed (SIGKILL) once a
//      third of the run is committed, started again; the run must complete with the same totals.
// Writes bench/out/nightly-results.json. BENCH_MENTORS sets the size; BENCH_PORT 8811-8818.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "./lib/http.mjs";
import * as server from "./lib/server.mjs";
import { summary as stats, round } from "./lib/stats.mjs";
import { d1File, openSqlite, seedLargePlatform } from "../scripts/lib/large-platform.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const API = "/api/v1/scheduler";
const TOKEN = "bench-token"; // bench/wrangler.toml [vars]
const JOB = "nightly-bench";
const PAGE = 2_000;
const mentors = Number(process.env.BENCH_MENTORS ?? 1_000_000);
let port = Number(process.env.BENCH_PORT ?? 8811);
const began = Date.now();
const budgetMs = 8 * 60_000 - 15_000; // the script's own limit, with room to stop and write
const left = () => began + budgetMs - Date.now();

const outDir = join(repo, "bench", "out");
mkdirSync(outDir, { recursive: true });
const logFile = join(outDir, "nightly-wrangler.log");
const log = (message) => console.log(`[nightly ${new Date().toISOString().slice(11, 19)}] ${message}`);

const results = {
  nightly_mentors_per_second: null,
  nightly_vs_scan_ratio: null,
  nightly_peak_rss_growth_mib: null,
  nightly_api_p99_ms_during_run: null,
  nightly_resume_ok: null,
};
const details = { mentors, page_rows: PAGE };
let snap;
let srv;

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.killNow(srv);
    server.cleanup(snap);
    process.exit(130);
  });
}

try {
  snap = server.snapshot(repo);
  await server.migrate(snap);
  const seeded = await seedLargePlatform(d1File(snap.state), { mentors });
  details.seed = seeded;
  log(`${mentors.toLocaleString("en")} mentors loaded in ${(seeded.ms / 1000).toFixed(1)} s`);

  for (const p of [8811, 8813, 8815, 8817]) {
    if (process.env.BENCH_PORT !== undefined) break;
    if (!(await server.listening(p)) && !(await server.listening(p + 1))) {
      port = p;
      break;
    }
  }
  srv = await startServer();
  await api("POST", `${API}/jobs`, {
    job_name: JOB,
    cron_expression: "0 0 29 2 *", // never due during the bench: runs are triggered
    handler: "checkCertificationExpiry",
    timeout_seconds: 3_600,
  });

  // The floor: the same pages, read and counted (once to warm the page cache the run finds warm too).
  details.scan_cold = await scanAll();
  const scan = await scanAll();
  details.scan = scan;
  log(`bare chunked scan: ${scan.rows.toLocaleString("en")} rows in ${scan.pages} pages, ${scan.ms} ms`);

  // The real run, measured.
  const rssBefore = await rssSample(2_000);
  const run1 = await measuredRun();
  details.run = run1;
  if (run1.record?.status === "success") {
    const ms = run1.record.duration_ms ?? run1.wallMs;
    results.nightly_mentors_per_second = round(mentors / (ms / 1000), 0);
    results.nightly_vs_scan_ratio = round(ms / scan.ms, 2);
    details.run_check = await checkTotals(run1.record);
  }
  results.nightly_peak_rss_growth_mib = round((run1.rssPeak - rssBefore.median) / 1024 / 1024, 1);
  results.nightly_api_p99_ms_during_run = run1.api.p99;
  details.rss_before_mib = round(rssBefore.median / 1024 / 1024, 1);
  log(
    `run: ${run1.record?.status ?? "did not finish"} in ${run1.record?.duration_ms ?? run1.wallMs} ms; ` +
      `RSS growth ${results.nightly_peak_rss_growth_mib} MiB; GET /jobs p99 ${run1.api.p99} ms over ${run1.api.count} calls; ` +
      `progress seen: ${run1.progressSeen}`,
  );

  // Resume after a kill.
  if (run1.record?.status === "success" && left() > 90_000) {
    details.resume = await resumeAfterKill(run1.record.result_summary);
    results.nightly_resume_ok = details.resume.ok;
    log(`resume: ${details.resume.ok ? "ok" : `not ok (${details.resume.reason})`}`);
  } else {
    results.nightly_resume_ok = false;
    details.resume = { ok: false, reason: run1.record?.status === "success" ? "no time left in the 8-minute budget" : "the first run did not succeed" };
  }
} catch (error) {
  details.error = String(error?.stack ?? error);
  console.error(`[nightly] failed: ${details.error}`);
} finally {
  await server.stop(srv);
  server.cleanup(snap);
}

details.seconds = round((Date.now() - began) / 1000, 1);
writeFileSync(join(outDir, "nightly-results.json"), `${JSON.stringify({ results, details }, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
log(`wrote bench/out/nightly-results.json in ${details.seconds} s`);
process.exit(Object.values(results).every((v) => v !== null && v !== false) ? 0 : 1);

// ---------------------------------------------------------------------------

async function startServer() {
  return server.start(snap, { port, logFile: logFile.replace(".log", `-${Date.now()}.log`) });
}

async function api(method, path, body) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function scanAll() {
  const started = Date.now();
  let after = "";
  let rows = 0;
  let pages = 0;
  for (;;) {
    const page = await api("GET", `/__bench/scan?after=${encodeURIComponent(after)}&limit=${PAGE}`);
    rows += page.rows;
    pages++;
    if (page.rows < PAGE) break;
    after = page.last;
  }
  return { rows, pages, ms: Date.now() - started };
}

/** Resident memory of the dev server's workerd processes (its process group), in bytes. */
function rss() {
  let total = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (Number(fields[2]) !== srv.child.pid || !comm.startsWith("workerd")) continue; // field 5: pgrp
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      total += Number(kb ?? 0) * 1024;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

async function rssSample(ms) {
  const samples = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    samples.push(rss());
    await sleep(100);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)] ?? 0 };
}

/** The run with this id as GET /jobs/:jobName/runs shows it (the newest page). */
async function findRun(runId) {
  const page = await api("GET", `${API}/jobs/${JOB}/runs?limit=20`);
  return page.data.find((r) => r.run_id === runId) ?? null;
}

/**
 * Triggers a run and follows it to the end, sampling memory and timing GET /jobs
 * from before the trigger (the trigger's own answer may wait on the run).
 */
async function measuredRun() {
  let done = false;
  let rssPeak = rss();
  let progressSeen = false;
  const latencies = [];
  const sampler = (async () => {
    while (!done) {
      rssPeak = Math.max(rssPeak, rss());
      await sleep(200);
    }
  })();
  const prober = (async () => {
    while (!done) {
      const t = performance.now();
      await fetch(`http://127.0.0.1:${port}${API}/jobs`).catch(() => null);
      latencies.push(performance.now() - t);
      await sleep(200);
    }
  })();
  const started = Date.now();
  let record = null;
  let trigger;
  try {
    await sleep(1_000); // a few probes before the run, for comparison
    trigger = await api("POST", `${API}/jobs/${JOB}/trigger`, { triggered_by: "bench-nightly" });
    details.trigger_answer_ms = Date.now() - started - 1_000;
    while (left() > 0) {
      record = await findRun(trigger.run_id).catch(() => record);
      if (record?.progress) progressSeen = true;
      if (record && record.status !== "running") break;
      await sleep(500);
    }
  } finally {
    done = true;
    await Promise.all([sampler, prober]);
  }
  return { runId: trigger?.run_id, record, wallMs: Date.now() - started, rssPeak, progressSeen, api: { ...stats(latencies), count: latencies.length } };
}

/** The summary against the rows the run wrote (read from the D1 file). */
async function checkTotals(record) {
  const db = await openSqlite(d1File(snap.state), { readOnly: true });
  try {
    const n = (sql, ...args) => Number(db.prepare(sql).get(...args).n);
    const s = record.result_summary;
    const found = {
      pauses: n("SELECT count(*) AS n FROM pauses WHERE created_by_run = ?", record.run_id),
      reminders: n("SELECT count(*) AS n FROM notification_outbox WHERE created_by_run = ? AND kind = 'cert_expiry_reminder'", record.run_id),
      paused_notices: n("SELECT count(*) AS n FROM notification_outbox WHERE created_by_run = ? AND kind = 'mentor_paused'", record.run_id),
    };
    const ok =
      s.mentors_checked === mentors &&
      s.auto_paused === found.pauses &&
      s.auto_paused === found.paused_notices &&
      s.reminders_sent === found.reminders &&
      Math.abs(s.auto_paused - details.seed.expired) <= 5; // certifications crossing "now" between seed and run
    return { ok, summary: s, found };
  } finally {
    db.close();
  }
}

/** The unfinished run in the ledger and how far it has got (read from the D1 file, whatever the API shows). */
async function unfinishedRun() {
  const db = await openSqlite(d1File(snap.state), { readOnly: true });
  try {
    return db.prepare("SELECT run_id AS runId, max(processed) AS processed FROM run_steps WHERE done = 0 GROUP BY run_id").get() ?? null;
  } catch {
    return null;
  } finally {
    db.close();
  }
}

async function resumeAfterKill(expected) {
  // The first run's effects undone, so the second has the same work to do.
  await server.stop(srv);
  const db = await openSqlite(d1File(snap.state));
  db.exec("BEGIN; DELETE FROM notification_outbox; DELETE FROM pauses; UPDATE mentors SET status = 'active' WHERE status != 'active'; COMMIT");
  db.close();
  srv = await startServer();

  // Trigger, and kill the dev server (SIGKILL: no chance to finish the step in hand)
  // once a third of the run is committed.
  const trigger = api("POST", `${API}/jobs/${JOB}/trigger`, { triggered_by: "bench-nightly-resume" }).catch((e) => e);
  const killAt = Math.floor(mentors / 3);
  let atKill = null;
  while (left() > 60_000) {
    atKill = await unfinishedRun();
    if (atKill && atKill.processed >= killAt) break;
    await sleep(100);
  }
  if (!atKill || atKill.processed < killAt) return { ok: false, reason: "the run did not get a third of the way within the budget", atKill };
  server.killNow(srv);
  await trigger;
  await sleep(1_000);
  srv = await startServer();
  await api("GET", `${API}/jobs`); // as `npm run dev` does: wakes the supervisor

  let record = null;
  while (left() > 20_000) {
    record = await findRun(atKill.runId).catch(() => record);
    if (record && record.status !== "running") break;
    await sleep(1_000);
  }
  const processedAfter = (await unfinishedRun())?.processed ?? null;
  if (!record || record.status === "running") {
    return { ok: false, reason: "the run did not complete after the restart within the budget", atKill, record, processedAfter };
  }
  if (record.status !== "success") return { ok: false, reason: `the run ended ${record.status}: ${record.error ?? ""}`, atKill, processedAfter };
  // The same work as the uninterrupted run, give or take certifications that crossed "now" in between.
  const got = record.result_summary;
  const same =
    got.mentors_checked === expected.mentors_checked &&
    ["expired_found", "auto_paused", "reminders_sent"].every((k) => Math.abs(got[k] - expected[k]) <= 5) &&
    got.errors === 0;
  const check = await checkTotals(record);
  return {
    ok: same && check.ok,
    reason: same ? (check.ok ? null : "the rows written do not match the summary") : "the summary differs from the uninterrupted run's",
    atKill,
    summary: record.result_summary,
    check,
  };
}
