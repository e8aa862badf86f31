#!/usr/bin/env node
// `npm run test:e2e:delivery`: notification delivery against `npm run dev` (scripts/dev.mjs)
// with a real webhook receiver on 127.0.0.1 (e2e/receiver.mjs, verifying with the
// standardwebhooks package), configured through a .dev.vars-format file (--env-file).
// The nightly job's reminders must each arrive exactly once, signed; a failing period is
// retried; one message the receiver rejects for good goes dead, shows in the API and on the
// Deliveries page, and arrives after Retry is clicked there.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startDevServer } from "./dev-server.mjs";
import { newSecret, startReceiver, webhookDevVars } from "./receiver.mjs";
import { apiCaller, assert, check, results, waitFor } from "./checks.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const JOB = "certification-expiry-nightly";
const TOKEN = "e2e-delivery-token";
/** The seed's 1-day reminder of mentor-004: the receiver rejects it (422) until told otherwise. */
const REJECTED_CERT = "cert-004-1";

let failuresLeft = 3; // the receiver is down for its first three requests
let rejecting = true;
const secret = newSecret();
const receiver = await startReceiver({
  secret,
  decide: (event) => {
    if (failuresLeft > 0) {
      failuresLeft--;
      return { status: 500 };
    }
    if (rejecting && event.data.certification_id === REJECTED_CERT) return { status: 422 };
    return null;
  },
});
const varsDir = mkdtempSync(join(tmpdir(), "nightly-e2e-vars-"));
const varsFile = join(varsDir, ".dev.vars");
writeFileSync(varsFile, webhookDevVars({ token: TOKEN, url: receiver.url, secret, extra: ["NOTIFY_FROM=scheduler@localhost.test"] }));

let server;
let browser;
const api = apiCaller(() => server.base, TOKEN);

try {
  console.log("e2e: starting the dev server with a local receiver at " + receiver.url);
  server = await startDevServer({ extraArgs: ["--env-file", varsFile] });
  let runId;
  let rows;

  await check("/health shows delivery configured, no problems", async () => {
    const health = await api("GET", "/health");
    assert(health.json.delivery.channel === "webhook" && health.json.delivery.webhook === true, JSON.stringify(health.json.delivery));
    assert(health.json.delivery.problems.length === 0, `problems: ${health.json.delivery.problems}`);
  });

  await check("the nightly job's notifications each arrive exactly once, signed, after a failing period", async () => {
    const triggered = await api("POST", `/jobs/${JOB}/trigger`, { dry_run: false });
    assert(triggered.status === 202, `trigger: HTTP ${triggered.status}`);
    runId = triggered.json.run_id;
    const run = await waitFor("the run to finish", async () => {
      const runs = await api("GET", `/jobs/${JOB}/runs?limit=5`);
      return runs.json.data.find((r) => r.run_id === runId && r.status !== "running");
    });
    assert(run.status === "success", `run ${runId}: ${run.status} ${run.error ?? ""}`);
    assert(run.result_summary.reminders_sent === 6, `reminders_sent ${run.result_summary.reminders_sent}`);
    rows = await waitFor("every notification to be sent or dead", async () => {
      const list = await api("GET", `/notifications?job_name=${JOB}&run_id=${runId}&limit=100`);
      return list.json.data.length > 0 && list.json.data.every((n) => n.status === "sent" || n.status === "dead") ? list.json.data : null;
    });
    const reminders = rows.filter((n) => n.type === "cert_expiry_reminder");
    assert(reminders.length === 6, `${reminders.length} reminder rows`);
    const sent = rows.filter((n) => n.status === "sent");
    for (const n of sent) assert(receiver.state.accepted.get(n.message_id) === 1, `${n.message_id} accepted ${receiver.state.accepted.get(n.message_id) ?? 0} times`);
    assert(receiver.duplicates() === 0, `${receiver.duplicates()} duplicates`);
    assert(receiver.state.invalid === 0, `${receiver.state.invalid} requests failed signature verification`);
    assert(receiver.state.log.filter((r) => r.status === 500).length === 3, "the failing period did not happen");
    assert(rows.some((n) => n.status === "sent" && n.attempts >= 2), "no row needed a retry");
    console.log(`  ${sent.length} sent, ${rows.length - sent.length} dead; ${receiver.state.requests} requests to the receiver`);
  });

  let dead;
  await check("the permanently rejected message is dead, with the receiver's answer, in the API", async () => {
    const list = await api("GET", "/notifications?status=dead");
    dead = list.json.data.find((n) => n.payload.certification_id === REJECTED_CERT);
    assert(dead, "no dead notification for " + REJECTED_CERT);
    assert(dead.last_error === "the receiver answered HTTP 422", dead.last_error);
    // It may also have met the failing period first; after the 422 it is not tried again.
    const rejections = receiver.state.log.filter((r) => r.id === dead.message_id && r.status === 422).length;
    assert(rejections === 1, `${rejections} requests answered 422: a 4xx must not be retried`);
    assert(!receiver.state.accepted.has(dead.message_id), "a dead message was accepted");
  });

  await check("the Deliveries page shows it; Retry there delivers it, once", async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
    const page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${server.base}/deliveries`);
    const deadCount = await page.locator('#delivery-counts td[data-status="dead"]').textContent();
    assert(Number(deadCount) >= 1, `dead count ${deadCount}`);
    await page.fill("#token", TOKEN);
    await page.click('#token-form button[type="submit"]');
    const row = page.locator(`tr[data-notification-id="${dead.notification_id}"]`);
    await row.waitFor();
    assert((await row.textContent()).includes("HTTP 422"), "the reason is not shown");
    rejecting = false;
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/notifications/${dead.notification_id}/retry`) && r.status() === 200),
      row.locator("button[data-retry]").click(),
    ]);
    await waitFor("the retried message to be sent", async () => (await api("GET", `/notifications?status=sent&limit=100`)).json.data.some((n) => n.notification_id === dead.notification_id));
    assert(receiver.state.accepted.get(dead.message_id) === 1, "not accepted exactly once after Retry");
    const audit = await api("GET", `/audit?job_name=${JOB}`);
    assert(audit.json.data.some((a) => a.action === "notification_retry"), "the retry is not in the audit trail");
  });

  await check("the run's page links to what it delivered", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.base}/jobs/${JOB}`);
    const link = page.locator(`tr[data-run-id="${runId}"] a.run-deliveries`);
    const text = await link.textContent();
    // Every notification of the run is sent by now: the reminders and the pause notices.
    const delivered = (await api("GET", `/notifications?job_name=${JOB}&run_id=${runId}&limit=100`)).json.data;
    assert(delivered.length > 6 && delivered.every((n) => n.status === "sent"), `the run's notifications: ${delivered.map((n) => n.status).join(", ")}`);
    assert(text.includes(`${delivered.length} sent`), `deliveries cell: ${text}, the run delivered ${delivered.length}`);
  });
} catch (error) {
  results.push({ name: "setup", ok: false });
  console.log(`not ok - setup\n  ${String(error?.stack ?? error)}`);
} finally {
  await browser?.close().catch(() => {});
  if (results.some((r) => !r.ok) && server) console.log(`--- dev server log (tail) ---\n${server.log().slice(-4000)}`);
  await server?.stop();
  await receiver.close();
  rmSync(varsDir, { recursive: true, force: true });
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`e2e delivery: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
