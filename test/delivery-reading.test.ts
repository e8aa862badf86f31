import { run } from "./helpers/run-handler";
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { generateWeeklyExpiryReport } from "../src/handlers/weekly-expiry-report";
import { call, registerJob, uniqueName } from "./helpers/api";
import { addMentor, at, ctx, DB, resetPlatform } from "./helpers/platform-fixtures";
import { settled } from "./helpers/scheduler";

const NOW = new Date("2031-03-03T08:00:00.000Z");

describe("the weekly report's notification", () => {
  it("is one outbox row per report, to coordinators, carrying the figures and the report's id; once per run", async () => {
    await resetPlatform();
    await addMentor("wk-a", { certs: [{ id: "wk-a1", expiresAt: at(NOW, { days: 3 }) }, { id: "wk-a2", expiresAt: at(NOW, { days: 20 }) }] });
    await run(generateWeeklyExpiryReport, ctx(NOW, { runId: "run-0042", jobName: "weekly-report" }));
    await run(generateWeeklyExpiryReport, ctx(NOW, { runId: "run-0042", jobName: "weekly-report" }));
    const rows = (await DB.prepare("SELECT * FROM notification_outbox").all<Record<string, any>>()).results;
    expect(rows).toHaveLength(1);
    const report = await DB.prepare("SELECT report_id FROM reports WHERE run_id = 'run-0042'").first<{ report_id: number }>();
    expect(rows[0]).toMatchObject({ kind: "weekly_expiry_report", mentor_id: null, job_name: "weekly-report", created_by_run: "run-0042", status: "pending" });
    expect(JSON.parse(rows[0]!.payload)).toEqual({
      report_kind: "weekly_expiry_summary",
      report_id: report!.report_id,
      run_id: "run-0042",
      job_name: "weekly-report",
      generated_at: NOW.toISOString(),
      expiring_7_days: 1,
      expiring_30_days: 2,
      paused_mentors: 0,
      unreadable_certifications: 0,
    });
  });

  it("is not written by a dry run", async () => {
    await resetPlatform();
    await run(generateWeeklyExpiryReport, ctx(NOW, { runId: "run-0043", dryRun: true }));
    expect((await DB.prepare("SELECT count(*) AS n FROM notification_outbox").first<{ n: number }>())!.n).toBe(0);
  });
});

describe("GET /reports and /reports/:id", () => {
  it("lists stored reports newest first and returns one with its body; token required", async () => {
    await resetPlatform();
    await run(generateWeeklyExpiryReport, ctx(NOW, { runId: "run-0050" }));
    await run(generateWeeklyExpiryReport, ctx(NOW, { runId: "run-0051" }));
    expect((await call("GET", "/reports", { token: null })).status).toBe(401);
    const list = await call("GET", "/reports?kind=weekly_expiry_summary&limit=1");
    expect(list.status).toBe(200);
    expect(list.json.data).toHaveLength(1);
    expect(list.json.data[0]).toMatchObject({ kind: "weekly_expiry_summary", run_id: "run-0051", figures: { expiring_7_days: 0, paused_mentors: 0 } });
    const next = await call("GET", `/reports?kind=weekly_expiry_summary&cursor=${list.json.next_cursor}`);
    expect(next.json.data.map((r: any) => r.run_id)).toEqual(["run-0050"]);

    const one = await call("GET", `/reports/${list.json.data[0].report_id}`);
    expect(one.status).toBe(200);
    expect(one.json.body).toMatchObject({ generated_at: NOW.toISOString(), expiring_7_days: [] });
    expect((await call("GET", "/reports/99999999")).status).toBe(404);
    expect((await call("GET", "/reports/x1")).status).toBe(400);
    expect((await call("GET", "/reports?cursor=9")).status).toBe(400);
  });
});

describe("a run's deliveries", () => {
  it("shows on the run's entry in GET /jobs/:jobName/runs, and the job page links to them", async () => {
    await resetPlatform();
    const name = uniqueName("deliv");
    const soon = new Date(Date.now() + 2 * 86_400_000).toISOString();
    await addMentor(`${name}-m`, { certs: [{ id: `${name}-c`, expiresAt: soon }] });
    expect((await registerJob(name)).status).toBe(201);
    try {
      const triggered = await call("POST", `/jobs/${name}/trigger`, { body: { dry_run: false } });
      expect(triggered.status).toBe(202);
      await settled(name);
      // Queued after the run's batch committed, then delivered by the queue's consumer.
      await vi.waitUntil(async () => (await call("GET", `/jobs/${name}/runs`)).json.data[0].deliveries.sent === 1, { timeout: 10_000, interval: 50 });
      const runs = await call("GET", `/jobs/${name}/runs`);
      expect(runs.json.data[0].deliveries).toEqual({ queued: 0, sent: 1, failed: 0, dead: 0 });

      const page = await call("GET", `https://scheduler.test/jobs/${name}`);
      expect(page.text).toContain(`/deliveries?job_name=${name}&amp;run_id=${runs.json.data[0].run_id}`);
      const listed = await call("GET", `/notifications?job_name=${name}&run_id=${runs.json.data[0].run_id}`);
      expect(listed.json.data).toHaveLength(1);
      expect(listed.json.data[0]).toMatchObject({ type: "cert_expiry_reminder", status: "sent", mentor_id: `${name}-m` });
    } finally {
      await call("DELETE", `/jobs/${name}`);
    }
  });
});

describe("dashboard pages", () => {
  it("serves Deliveries (counts; failures behind the token) and Reports", async () => {
    const deliveries = await call("GET", "https://scheduler.test/deliveries", { token: null });
    expect(deliveries.status).toBe(200);
    expect(deliveries.text).toContain('id="delivery-counts"');
    expect(deliveries.text).toContain('data-view="deliveries"');
    // No personal data in the page itself: rows come from the API with the token.
    expect(deliveries.text).not.toContain("@example.org");
    expect((await call("GET", "https://scheduler.test/reports", { token: null })).status).toBe(200);
    const report = await call("GET", "https://scheduler.test/reports/3", { token: null });
    expect(report.text).toContain('data-report-id="3"');
  });

  it("names a misconfiguration on the Deliveries page", async () => {
    const { default: worker } = await import("../src/index");
    const response = await worker.fetch(new Request("https://scheduler.test/deliveries"), { ...env, NOTIFY_FROM: "" } as never, { waitUntil() {}, passThroughOnException() {} } as never);
    const text = await response.text();
    expect(text).toContain("Nothing is being sent");
    expect(text).toContain("NOTIFY_FROM (the sender address) is not set");
  });
});
