#!/usr/bin/env node
// `npm run test:e2e:alerts`: the dead man's switch against `npm run dev` (scripts/dev.mjs)
// with a real webhook receiver on 127.0.0.1 (e2e/receiver.mjs). A `* * * * *` job with
// misfire_policy "skip" and start_deadline_seconds 30 runs; the service is stopped across
// one of its instants and started again on the same state: exactly one job.alert.opened
// of kind "missed" arrives, then the next on-time run brings exactly one job.alert.resolved.
// Takes about three minutes (it waits on real minute boundaries).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevServer } from "./dev-server.mjs";
import { newSecret, startReceiver, webhookDevVars } from "./receiver.mjs";
import { apiCaller, assert, check, results, waitFor } from "./checks.mjs";

const TOKEN = "e2e-alerts-token";
const JOB = `e2e-alerts-${Date.now().toString(36)}`;
/** This suite's ports (the others use 8801-8809), so it can run beside them. */
const PORTS = Array.from({ length: 10 }, (_, i) => 8840 + i);
const MINUTE = 60_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const secret = newSecret();
const receiver = await startReceiver({ secret });
const alertEvents = () => receiver.state.log.filter((e) => e.type.startsWith("job.alert.") && e.data.job_name === JOB && e.status === 204);
const dir = mkdtempSync(join(tmpdir(), "nightly-e2e-alerts-"));
const state = join(dir, "state");
const varsFile = join(dir, ".dev.vars");
writeFileSync(varsFile, webhookDevVars({ token: TOKEN, url: receiver.url, secret }));
const start = () => startDevServer({ extraArgs: ["--env-file", varsFile], ports: PORTS, persistTo: state });

let server;
const api = apiCaller(() => server.base, TOKEN);
const runsOf = async () => (await api("GET", `/jobs/${JOB}/runs?limit=20`)).json?.data ?? [];

try {
  console.log(`e2e: starting the dev server with a local receiver at ${receiver.url}`);
  server = await start();
  let missedInstant;

  await check("a `* * * * *` job with misfire_policy skip and start_deadline_seconds 30 runs on time", async () => {
    const created = await api("POST", "/jobs", {
      job_name: JOB,
      cron_expression: "* * * * *",
      handler: "liftExpiredPauses",
      misfire_policy: "skip",
      start_deadline_seconds: 30,
    });
    assert(created.status === 201, `register: HTTP ${created.status} ${JSON.stringify(created.json)}`);
    const health = await api("GET", "/health");
    assert(health.json.delivery.problems.length === 0 && health.json.delivery.webhook, `delivery: ${JSON.stringify(health.json.delivery)}`);
    const detail = await api("GET", `/jobs/${JOB}`);
    assert(detail.json.start_deadline_seconds === 30 && detail.json.alerts_enabled === true, JSON.stringify(detail.json));
    const run = await waitFor("a scheduled run", async () => (await runsOf()).find((r) => r.scheduled_for && r.status === "success"), 2 * MINUTE + 10_000);
    assert(alertEvents().length === 0, `alerts before the outage: ${JSON.stringify(alertEvents())}`);
    console.log(`  ${run.run_id} ran for ${run.scheduled_for}, started ${run.started_at}`);
  });

  await check("stopped across an instant and started again: exactly one job.alert.opened, kind missed", async () => {
    // Stop a few seconds after a minute begins; start again 35 s after the next one, so its
    // instant passes with the service down and nothing can start its run within 30 s.
    const now = Date.now();
    const minute = Math.floor(now / MINUTE) * MINUTE;
    await sleep(minute + 5_000 - now + (now - minute > 5_000 ? MINUTE : 0));
    await server.stop();
    missedInstant = Math.floor(Date.now() / MINUTE) * MINUTE + MINUTE;
    console.log(`  stopped at ${new Date().toISOString()}; the instant ${new Date(missedInstant).toISOString()} passes while down`);
    await sleep(missedInstant + 35_000 - Date.now());
    server = await start();
    console.log(`  started again at ${new Date().toISOString()}`);
    const opened = await waitFor("job.alert.opened", async () => alertEvents().find((e) => e.type === "job.alert.opened"), 90_000);
    assert(opened.data.kind === "missed", JSON.stringify(opened.data));
    assert(opened.data.scheduled_for === new Date(missedInstant).toISOString().replace(".000Z", "Z"), `scheduled_for ${opened.data.scheduled_for}`);
    assert(typeof opened.data.alert_id === "string" && opened.data.message.includes("missed its run of"), JSON.stringify(opened.data));
    console.log(`  ${opened.data.alert_id}: ${opened.data.message}`);
    const open = await api("GET", `/alerts?state=open&job_name=${JOB}`);
    assert(open.json.data.length === 1 && open.json.data[0].kind === "missed", JSON.stringify(open.json));
  });

  await check("the next on-time run: exactly one job.alert.resolved; nothing twice", async () => {
    const resolved = await waitFor("job.alert.resolved", async () => alertEvents().find((e) => e.type === "job.alert.resolved"), 2 * MINUTE + 30_000);
    await sleep(10_000); // anything duplicated or late would have arrived by now
    const events = alertEvents();
    assert(events.filter((e) => e.type === "job.alert.opened").length === 1, `opened: ${events.length} alert events`);
    assert(events.filter((e) => e.type === "job.alert.resolved").length === 1, `resolved: ${events.length} alert events`);
    assert(resolved.data.resolved_at !== null && resolved.data.kind === "missed", JSON.stringify(resolved.data));
    assert(receiver.duplicates() === 0 && receiver.state.invalid === 0, `duplicates ${receiver.duplicates()}, invalid ${receiver.state.invalid}`);
    const health = await api("GET", "/health");
    assert(!health.json.alerts.listed.some((a) => a.job_name === JOB), "still listed as open in /health");
    console.log(`  resolved at ${resolved.data.resolved_at}`);
  });
} catch (error) {
  results.push({ name: "setup", ok: false });
  console.log(`not ok - ${error?.stack ?? error}`);
} finally {
  await server?.stop();
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok).length;
console.log(`\n${results.length - failed} of ${results.length} checks passed`);
process.exit(failed === 0 ? 0 : 1);
