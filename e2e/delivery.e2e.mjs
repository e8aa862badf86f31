#!/usr/bin/env node
// `npm run test:e2e:delivery`: notification delivery against `npm run dev` (scripts/dev.mjs)
// with a real webhook receiver on 127.0.0.1 (e2e/receiver.mjs, verifying with the
// standardwebhooks package), configured through a .dev.vars-format file (--env-file).
// The nightly job's notifications must each arrive exactly once, signed, although the
// receiver is down while they are first tried and the dev server is killed with them in
// flight (their retries wait in the local queue, in memory) and started again on the same
// state: the sweep queues them again. One message the receiver rejects for good goes dead,
// shows in the API and on the Deliveries page, and arrives after Retry is clicked there.
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

let down = true; // the receiver answers 500 to everything during the dev server's first life
let rejecting = true;
const secret = newSecret();
const receiver = await startReceiver({
  secret,
  decide: (event) => {
    if (down) return { status: 500 };
    if (rejecting && event.data.certification_id === REJECTED_CERT) return { status: 422 };
    return null;
  },
});
const varsDir = mkdtempSync(join(tmpdir(), "nightly-e2e-vars-"));
const varsFile = join(varsDir, ".dev.vars");
// A failed first attempt is retried 10 s later: the window in which the server is killed.
writeFileSync(varsFile, webhookDevVars({ token: TOKEN, url: receiver.url, secret, retryBaseSeconds: 10, extra: ["NOTIFY_FROM=scheduler@localhost.test"] }));

// Both lives of the dev server run on this state (D1, objects); the queue lives in memory.
const state = mkdtempSync(join(tmpdir(), "nightly-e2e-delivery-state-"));
const startServer = () => startDevServer({ extraArgs: ["--env-file", varsFile], persistTo: state });
let server;
let browser;
const api = apiCaller(() => server.base, TOKEN);

try {
  console.log("e2e: starting the dev server with a local receiver at " + receiver.url);
  server = await startServer();
  let runId;
  let rows;

  await check("/health shows delivery configured, no problems", async () => {
    const health = await api("GET", "/health");
    assert(health.json.delivery.channel === "webhook" && health.json.delivery.webhook === true, JSON.stringify(health.json.delivery));
    assert(health.json.delivery.problems.length === 0, `problems: ${health.json.delivery.problems}`);
  });

  await check("the nightly job's notifications, in flight when the dev server is killed, each arrive exactly once, signed, after it starts again", async () => {
    const triggered = await api("POST", `/jobs/${JOB}/trigger`, { dry_run: false });
    assert(triggered.status === 202, `trigger: HTTP ${triggered.status}`);
    runId = triggered.json.run_id;
    const run = await waitFor("the run to finish", async () => {
      const runs = await api("GET", `/jobs/${JOB}/runs?limit=5`);
      return runs.json.data.find((r) => r.run_id === runId && r.status !== "running");
    });
    assert(run.status === "success", `run ${runId}: ${run.status} ${run.error ?? ""}`);
    assert(run.result_summary.reminders_sent === 6, `reminders_sent ${run.result_summary.reminders_sent}`);
    const ofRun = async () => (await api("GET", `/notifications?job_name=${JOB}&run_id=${runId}&limit=100`)).json.data;

    // The receiver is down: each notification fails once, and its retry waits in the queue.
    const inFlight = await waitFor("every notification to have failed once", async () => {
      const list = await ofRun();
      return list.length > 0 && list.every((n) => n.status === "failed") ? list : null;
    });
    process.kill(-server.pid, "SIGKILL");
    await server.stop();
    const killedAt = Date.now();
    down = false;
    const failedRequests = receiver.state.requests;
    console.log(`  killed the dev server with ${inFlight.length} notifications waiting for their retry; starting it again`);
    server = await startServer();

    // Their queue messages died with the server; the supervisor's sweep queues the rows again
    // once they are 3 minutes overdue (a row caught mid-attempt waits for its 5-minute lease).
    rows = await waitFor(
      "every notification to be sent or dead after the restart",
      async () => {
        const list = await ofRun();
        return list.length > 0 && list.every((n) => n.status === "sent" || n.status === "dead") ? list : null;
      },
      9 * 60_000,
    );
    assert(rows.length === inFlight.length, `${rows.length} rows after the restart, ${inFlight.length} before`);
    const reminders = rows.filter((n) => n.type === "cert_expiry_reminder");
    assert(reminders.length === 6, `${reminders.length} reminder rows`);
    const sent = rows.filter((n) => n.status === "sent");
    for (const n of sent) assert(receiver.state.accepted.get(n.message_id) === 1, `${n.message_id} accepted ${receiver.state.accepted.get(n.message_id) ?? 0} times`);
    for (const n of rows) assert(n.attempts >= 2, `${n.message_id}: ${n.attempts} attempts, so it was not tried both before and after the restart`);
    assert(receiver.duplicates() === 0, `${receiver.duplicates()} duplicates`);
    assert(receiver.state.invalid === 0, `${receiver.state.invalid} requests failed signature verification`);
    assert(receiver.state.log.filter((r) => r.status === 500).length === failedRequests, "a request failed after the restart");
    assert(server.log().includes('"event":"delivery.sweep"'), "the restarted server's sweep did not queue them again");
    console.log(`  ${sent.length} sent, ${rows.length - sent.length} dead, ${Math.round((Date.now() - killedAt) / 1000)} s after the kill; ${receiver.state.requests} requests to the receiver`);
  });

  let dead;
  await check("the permanently rejected message is dead, with the receiver's answer, in the API", async () => {
    const list = await api("GET", "/notifications?status=dead");
    dead = list.json.data.find((n) => n.payload.certification_id === REJECTED_CERT);
    assert(dead, "no dead notification for " + REJECTED_CERT);
    assert(dead.last_error === "the receiver answered HTTP 422", dead.last_error);
    // It met the receiver's down period first; after the 422 it is not tried again.
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
  rmSync(state, { recursive: true, force: true });
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`e2e delivery: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
