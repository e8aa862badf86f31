#!/usr/bin/env node
// `npm run test:e2e`: the dashboard in a real headless Chromium (Debian's, driven by
// playwright-core; no downloaded browser) against `npm run dev` on a fresh database.
// Ends with "e2e: N passed, M failed"; exits non-zero if any check failed.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { devToken, ROOT, startDevServer } from "./dev-server.mjs";
import { assert, check, results } from "./checks.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = join(ROOT, "docs", "dashboard.png");
const BUILT_IN = ["certification-expiry-nightly", "pause-auto-lift-check"];


/**
 * Clicks an action button, checks the API's answer, and returns the message the
 * page shows once it has reloaded (e.g. "Dry run run-0003 started.").
 */
async function act(page, action, pathEnd, expected) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes("/api/v1/scheduler/jobs/") && r.url().endsWith(pathEnd) && r.request().method() !== "GET"),
    page.click(`button[data-action="${action}"]`),
  ]);
  assert(response.ok(), `${action}: HTTP ${response.status()}`);
  const status = page.locator("#action-status", { hasText: expected });
  await status.waitFor();
  return status.textContent();
}

let server;
let browser;
try {
  console.log("e2e: starting the dev server (scripts/dev.mjs) ...");
  server = await startDevServer();
  console.log(`e2e: dev server on ${server.base} (persist-to ${server.persistTo})`);
  const token = devToken();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  const cspViolations = [];
  page.on("console", (msg) => /Content Security Policy/i.test(msg.text()) && cspViolations.push(msg.text()));

  await check("the dashboard lists the built-in jobs", async () => {
    await page.goto(`${server.base}/`);
    for (const name of BUILT_IN) {
      const row = page.locator(`tr[data-job="${name}"]`);
      await row.waitFor();
      assert((await row.locator("a").textContent()) === name, `${name}: no link`);
      assert((await row.textContent()).includes("UTC"), `${name}: no time zone`);
    }
    const first = await page.locator(`tr[data-job="${BUILT_IN[0]}"]`).textContent();
    assert(first.includes("At 02:00 AM"), `no human-readable schedule in: ${first}`);
  });

  await check("a job registered through the API appears on the dashboard", async () => {
    // The contract's own example registration.
    const response = await fetch(`${server.base}/api/v1/scheduler/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ job_name: "weekly-expiry-summary-report", cron_expression: "0 8 * * 1", handler: "generateWeeklyExpiryReport", is_active: true }),
    });
    assert(response.status === 201, `register: HTTP ${response.status} ${await response.text()}`);
    await page.reload();
    const row = await page.locator('tr[data-job="weekly-expiry-summary-report"]').textContent();
    assert(row.includes("At 08:00 AM, only on Monday"), `unexpected row: ${row}`);
  });

  await check("Dry run on a job page shows the new run in its runs list", async () => {
    await page.click(`a[href="/jobs/${BUILT_IN[0]}"]`);
    await page.waitForURL(`**/jobs/${BUILT_IN[0]}`);
    await page.fill("#token", token);
    await page.click('#token-form button[type="submit"]');
    await page.locator("#token-set").waitFor({ state: "visible" });
    const message = await act(page, "dry-run", "/trigger", /^Dry run run-\d{4,} started\.$/);
    const run = { run_id: message.split(" ")[2] };
    const row = page.locator(`tr[data-run-id="${run.run_id}"]`);
    await row.locator(".badge.dry").waitFor();
    // The page reloads itself while a run is in progress; wait for the outcome.
    await page.locator(`tr[data-run-id="${run.run_id}"][data-run-status="success"]`).waitFor({ timeout: 30_000 });
    assert((await row.textContent()).includes("mentors_checked"), "the run's summary is not shown");
    assert((await page.locator(`rect[data-run-id="${run.run_id}"]`).count()) === 1, "the run is not in the chart");
    const stored = await page.evaluate(() => ({ session: sessionStorage.getItem("nightly-scheduler.token"), local: localStorage.length, cookie: document.cookie }));
    assert(stored.session === token && stored.local === 0 && stored.cookie === "", `token storage: ${JSON.stringify(stored)}`);
  });

  await check("Pause and Resume act through the API and show on the page", async () => {
    await page.goto(`${server.base}/jobs/${BUILT_IN[1]}`);
    await act(page, "pause", `/jobs/${BUILT_IN[1]}`, "Job paused.");
    await page.locator('button[data-action="resume"]').waitFor();
    assert((await page.locator("h1 .badge").textContent()) === "paused", "not shown as paused");
    await act(page, "resume", `/jobs/${BUILT_IN[1]}`, "Job resumed.");
    await page.locator('button[data-action="pause"]').waitFor();
    assert((await page.locator("#upcoming li").count()) === 5, "resumed job has no five upcoming runs");
  });

  await check("Pause over someone else's change is refused (412): the page reloads and says so", async () => {
    await page.goto(`${server.base}/jobs/${BUILT_IN[1]}`);
    // Another operator changes the job after this page was loaded.
    const other = await fetch(`${server.base}/api/v1/scheduler/jobs/${BUILT_IN[1]}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ max_retries: 1 }),
    });
    assert(other.ok, `the other change: HTTP ${other.status}`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/jobs/${BUILT_IN[1]}`) && r.request().method() === "PATCH"),
      page.click('button[data-action="pause"]'),
    ]);
    assert(response.status() === 412, `pause over a newer version: HTTP ${response.status()}`);
    await page.locator("#action-status", { hasText: "Someone else changed this job" }).waitFor();
    assert((await page.locator("h1 .badge").textContent()) !== "paused", "paused over someone else's change");
    await act(page, "pause", `/jobs/${BUILT_IN[1]}`, "Job paused."); // the reloaded page carries the new version
    await act(page, "resume", `/jobs/${BUILT_IN[1]}`, "Job resumed.");
  });

  await check("Run now records a real run that the dashboard shows as the last run", async () => {
    const message = await act(page, "run", "/trigger", /^Run run-\d{4,} started\.$/);
    const run = { run_id: message.split(" ")[1] };
    await page.locator(`tr[data-run-id="${run.run_id}"][data-run-status="success"]`).waitFor({ timeout: 30_000 });
    await page.goto(`${server.base}/`);
    await page.locator(`tr[data-job="${BUILT_IN[1]}"] .badge.success`).waitFor();
    assert(pageErrors.length === 0, `errors in the page: ${pageErrors.join("; ")}`);
    mkdirSync(join(ROOT, "docs"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    console.log(`e2e: screenshot saved to ${SCREENSHOT}`);
  });

  // Issue 14: /docs works with every other origin blocked, under its CSP, and the
  // dashboard's pages broke no CSP rule along the way.
  await check("/docs renders Swagger UI with the network blocked (only this server reachable)", async () => {
    const offline = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const leaving = [];
    await offline.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${server.base}/`)) return route.continue();
      leaving.push(url);
      return route.abort("internetdisconnected");
    });
    const docs = await offline.newPage();
    const violations = [];
    docs.on("console", (msg) => /Content Security Policy|Refused to/i.test(msg.text()) && violations.push(msg.text()));
    docs.on("pageerror", (error) => violations.push(String(error)));
    const response = await docs.goto(`${server.base}/docs`);
    assert(/script-src 'self'/.test(response.headers()["content-security-policy"] ?? ""), "no CSP on /docs");
    await docs.locator(".swagger-ui .info .title", { hasText: "Nightly Scheduler API" }).waitFor({ timeout: 30_000 });
    await docs.locator(".swagger-ui .opblock").first().waitFor();
    const operations = await docs.locator(".swagger-ui .opblock").count();
    assert(operations >= 8, `only ${operations} operations shown`);
    // Issue 16: the OpenAPI 3.1 webhooks section, every event we send.
    await docs.locator(".swagger-ui .webhooks h2", { hasText: "Webhooks" }).waitFor();
    const webhooks = await docs.locator(".swagger-ui .webhooks .opblock").count();
    assert(webhooks === 6, `${webhooks} webhooks shown, not 6`);
    assert(leaving.length === 0, `requests to other origins: ${leaving.join(", ")}`);
    assert(violations.length === 0, `CSP violations or errors: ${violations.join("; ")}`);
    await offline.close();
  });

  await check("the dashboard breaks no Content-Security-Policy rule", async () => {
    assert(cspViolations.length === 0, `CSP violations: ${cspViolations.join("; ")}`);
  });

  await check("a few wrong tokens get 401, never 429 (the failed-auth limit under wrangler dev)", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.base}/api/v1/scheduler/jobs`, { method: "POST", headers: { authorization: `Bearer wrong-${i}`, "content-type": "application/json" }, body: "{}" });
      assert(res.status === 401, `attempt ${i}: HTTP ${res.status}`);
    }
  });
} catch (error) {
  results.push({ name: "setup", ok: false });
  console.log(`not ok - setup\n  ${String(error?.stack ?? error)}`);
} finally {
  await browser?.close().catch(() => {});
  if (results.some((r) => !r.ok) && server) console.log(`--- dev server log (tail) ---\n${server.log().slice(-3000)}`);
  await server?.stop();
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
