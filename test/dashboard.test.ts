import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { describeCron, formatDuration, formatSummary, relativeTime } from "../src/dashboard/format";
import { call, registerJob, uniqueName } from "./helpers/api";

const page = (path: string) => call("GET", `https://scheduler.test${path}`, { token: null });

/** A finished run written straight into D1, so the page has a known history without waiting for one. */
async function addRun(jobName: string, run: { status: string; startedAt: string; durationMs: number | null; triggeredBy?: string; dryRun?: boolean; summary?: object; error?: string }) {
  const job = await env.DB.prepare("SELECT job_id FROM jobs WHERE job_name = ?").bind(jobName).first<{ job_id: number }>();
  const completedAt = run.durationMs === null ? null : new Date(Date.parse(run.startedAt) + run.durationMs).toISOString();
  const inserted = await env.DB.prepare(
    `INSERT INTO runs (job_id, job_name, run_no, triggered_by, dry_run, status, attempts, started_at, completed_at, duration_ms, result_summary, error)
     VALUES (?1, ?2, (SELECT coalesce(max(run_no), 0) + 1 FROM runs WHERE job_id = ?1), ?3, ?4, ?5, 1, ?6, ?7, ?8, ?9, ?10) RETURNING run_no`,
  )
    .bind(job!.job_id, jobName, run.triggeredBy ?? "scheduler", run.dryRun ? 1 : 0, run.status, run.startedAt, completedAt, run.durationMs, run.summary ? JSON.stringify(run.summary) : null, run.error ?? null)
    .first<{ run_no: number }>();
  return `run-${String(inserted!.run_no).padStart(4, "0")}`;
}

describe("GET / (dashboard)", () => {
  it("lists the built-in jobs with their schedule in words, time zone, state and runs", async () => {
    const response = await page("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const html = response.text;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<a href="/jobs/certification-expiry-nightly">certification-expiry-nightly</a>');
    expect(html).toContain('<a href="/jobs/pause-auto-lift-check">pause-auto-lift-check</a>');
    expect(html).toContain("<code>0 2 * * *</code>");
    expect(html).toContain("At 02:00 AM · UTC");
    expect(html).toContain("At 06:00 AM · UTC");
    expect(html).toContain('<span class="badge never">never</span>');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
  });

  it("shows a paused job, another time zone, and the last run's status with its time", async () => {
    const name = uniqueName("dash-list");
    await registerJob(name, { cron_expression: "*/15 9-17 * * 1-5", timezone: "Europe/Berlin", is_active: false });
    const startedAt = new Date(Date.now() - 3 * 3_600_000).toISOString();
    await env.DB.prepare("UPDATE jobs SET last_run_at = ?, last_run_status = 'failed' WHERE job_name = ?").bind(startedAt, name).run();
    const html = (await page("/")).text;
    const row = html.slice(html.indexOf(`<tr data-job="${name}">`), html.indexOf("</tr>", html.indexOf(`<tr data-job="${name}">`)));
    expect(row).toContain("Every 15 minutes, between 09:00 AM and 05:59 PM, Monday through Friday · Europe/Berlin");
    expect(row).toContain('<span class="badge paused">paused</span>');
    expect(row).toContain('<span class="badge failed">failed</span>');
    expect(row).toContain(">3 h ago</time>");
    expect(row).toContain(`${startedAt.slice(0, 10)} ${startedAt.slice(11, 19)} UTC`);
  });
});

describe("GET /jobs/:jobName (job page)", () => {
  it("shows recent runs, a chart of them, the next five runs and the actions", async () => {
    const name = uniqueName("dash-job");
    await registerJob(name, { cron_expression: "0 2 * * *" });
    const ok = await addRun(name, { status: "success", startedAt: "2026-03-25T02:00:00.000Z", durationMs: 840, summary: { mentors_checked: 87, expired_found: 2 } });
    const failed = await addRun(name, { status: "failed", startedAt: "2026-03-26T02:00:00.000Z", durationMs: 2_400, error: "D1 timed out" });
    const dry = await addRun(name, { status: "success", startedAt: "2026-03-26T10:15:00.000Z", durationMs: 95, triggeredBy: "coordinator-007", dryRun: true, summary: { mentors_checked: 87 } });

    const response = await page(`/jobs/${name}`);
    expect(response.status).toBe(200);
    const html = response.text;
    for (const runId of [ok, failed, dry]) expect(html).toContain(`<tr data-run-id="${runId}"`);
    const rowAt = (runId: string) => html.indexOf(`<tr data-run-id="${runId}"`);
    expect(rowAt(dry)).toBeLessThan(rowAt(failed)); // newest first
    expect(rowAt(failed)).toBeLessThan(rowAt(ok));
    expect(html).toContain("mentors_checked 87 · expired_found 2");
    expect(html).toContain("840 ms");
    expect(html).toContain("2.4 s");
    // Issue 14: the public page shows the safe message, never the raw error.
    expect(html).toContain("The handler failed");
    expect(html).not.toContain("D1 timed out");
    expect(html).toContain('<span class="badge dry">dry run</span>');
    expect(html).toContain("coordinator-007");
    // The chart: one bar per run, the slowest full height.
    expect(html.match(/<rect data-run-id=/g)).toHaveLength(3);
    expect(html).toMatch(/<svg class="chart"/);
    // Upcoming runs: the next five 02:00 UTC instants.
    const upcoming = html.slice(html.indexOf('<ol class="upcoming"'), html.indexOf("</ol>"));
    expect(upcoming.match(/<li>/g)).toHaveLength(5);
    expect(upcoming).toMatch(/\d{4}-\d\d-\d\d 02:00:00 UTC/);
    // The actions: through the API, with the token from sessionStorage only.
    expect(html).toContain(`data-job-api="/api/v1/scheduler/jobs/${name}"`);
    for (const action of ["run", "dry-run", "pause"]) expect(html).toContain(`data-action="${action}"`);
    expect(html).toContain("sessionStorage");
    expect(html).not.toContain("localStorage");
    expect(html).not.toContain("test-token");
  });

  it("shows a run the moment it is triggered (dry run, through the API)", async () => {
    const name = uniqueName("dash-trigger");
    await registerJob(name);
    const trigger = await call("POST", `/jobs/${name}/trigger`, { body: { dry_run: true, triggered_by: "dashboard" } });
    expect(trigger.status).toBe(202);
    const html = (await page(`/jobs/${name}`)).text;
    const row = html.slice(html.indexOf(`<tr data-run-id="${trigger.json.run_id}"`));
    expect(row).toContain('<span class="badge dry">dry run</span>');
    expect(row).toContain("dashboard");
  });

  it("offers Resume, and no upcoming runs, for a paused job", async () => {
    const name = uniqueName("dash-paused");
    await registerJob(name, { is_active: false });
    const html = (await page(`/jobs/${name}`)).text;
    expect(html).toContain('data-action="resume"');
    expect(html).not.toContain('data-action="pause"');
    expect(html).toContain("None: the job is paused.");
    expect(html).toContain("This job has not run yet.");
  });

  it("escapes what runs record (no HTML injection through triggered_by or errors)", async () => {
    const name = uniqueName("dash-escape");
    await registerJob(name);
    await addRun(name, { status: "failed", startedAt: new Date().toISOString(), durationMs: 1, triggeredBy: "<img src=x onerror=alert(1)>", error: "<script>alert(2)</script>" });
    const html = (await page(`/jobs/${name}`)).text;
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<script>alert(2)");
  });

  it("answers an HTML 404 for an unknown or impossible job name", async () => {
    for (const path of ["/jobs/no-such-job", "/jobs/Not%20A%20Name"]) {
      const response = await page(path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.text).toContain("Job not found");
    }
  });
});

describe("dashboard when reads need a token", () => {
  it("stays shut (403), and the API's own answers are unchanged", async () => {
    const strict = { ...env, REQUIRE_AUTH_FOR_READS: "true" };
    const app = createApp();
    const home = await app.request("https://scheduler.test/", {}, strict);
    expect(home.status).toBe(403);
    expect(await home.text()).toContain("REQUIRE_AUTH_FOR_READS");
    expect((await app.request("https://scheduler.test/jobs/certification-expiry-nightly", {}, strict)).status).toBe(403);
    const api = await app.request("https://scheduler.test/api/v1/scheduler/nope", {}, strict);
    expect(api.headers.get("content-type")).toMatch(/application\/json/);
  });
});

describe("dashboard formatting", () => {
  const now = new Date("2026-03-26T10:00:00Z");
  it("says times relative to now", () => {
    expect(relativeTime("2026-03-26T10:00:03Z", now)).toBe("just now");
    expect(relativeTime("2026-03-26T09:59:30Z", now)).toBe("30 s ago");
    expect(relativeTime("2026-03-26T09:55:00Z", now)).toBe("5 min ago");
    expect(relativeTime("2026-03-27T02:00:00Z", now)).toBe("in 16 h");
    expect(relativeTime("2026-03-20T10:00:00Z", now)).toBe("6 d ago");
  });
  it("describes cron expressions in words, and falls back to the expression", () => {
    expect(describeCron("0 2 * * *")).toBe("At 02:00 AM");
    expect(describeCron("@daily")).toBe("At 12:00 AM");
    expect(describeCron("not a cron")).toBe("not a cron");
  });
  it("formats durations and summaries", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(840)).toBe("840 ms");
    expect(formatDuration(2_400)).toBe("2.4 s");
    expect(formatDuration(185_000)).toBe("3 min 5 s");
    expect(formatSummary({ mentors_checked: 87, errors: 0 })).toBe("mentors_checked 87 · errors 0");
    expect(formatSummary(null)).toBe("");
  });
});
