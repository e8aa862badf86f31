import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import { clock } from "../src/lib/clock";
import { BASE, call, registerJob, uniqueName } from "./helpers/api";
import { advanceClock, freezeClock } from "./helpers/clock";
import { fireAlarm, MINUTE, minuteFloor, schedulerOf, setNext, settled } from "./helpers/scheduler";
import { failNext } from "./helpers/test-handlers";

beforeEach(() => freezeClock());
const clockNow = () => clock.now().getTime();

interface Family {
  name: string;
  help: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}

async function scrape(): Promise<{ families: Map<string, Family>; contentType: string | null }> {
  const response = await call("GET", "/metrics", { token: null });
  expect(response.status).toBe(200);
  // A real exposition-format parser (the prom2json-compatible one from npm), not a pattern.
  const families = parsePrometheusTextFormat(response.text) as Family[];
  return { families: new Map(families.map((f) => [f.name, f])), contentType: response.headers.get("content-type") };
}

/** The sample of `family` whose labels are exactly `labels`, as a number (undefined if absent). */
function sample(families: Map<string, Family>, family: string, labels: Record<string, string>): number | undefined {
  const found = families.get(family)?.metrics.find((m) => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels));
  return found === undefined ? undefined : Number(found.value);
}

const SERIES = {
  scheduler_job_last_success_timestamp_seconds: "gauge",
  scheduler_job_last_run_timestamp_seconds: "gauge",
  scheduler_job_next_run_timestamp_seconds: "gauge",
  scheduler_job_runs_total: "counter",
  scheduler_job_last_duration_seconds: "gauge",
  scheduler_alerts_open: "gauge",
  scheduler_notifications: "gauge",
};

describe("GET /metrics", () => {
  it("serves the Prometheus text format 0.0.4: every series with HELP and TYPE, labelled by job names only", async () => {
    const name = uniqueName("metrics");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testFlaky" });
    const due = minuteFloor(clockNow()) + MINUTE;
    advanceClock(due - clockNow() + 2_000);
    await setNext(name, due);
    await fireAlarm(name);
    await settled(name);
    await call("POST", `/jobs/${name}/trigger`, { body: { dry_run: true } }); // not counted
    await settled(name);

    const { families, contentType } = await scrape();
    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    for (const [series, type] of Object.entries(SERIES)) {
      expect(families.get(series), series).toMatchObject({ type: type.toUpperCase() });
      expect(families.get(series)!.help.length, series).toBeGreaterThan(10);
    }
    const job = { job: name };
    expect(sample(families, "scheduler_job_runs_total", { job: name, status: "success" })).toBe(1);
    expect(sample(families, "scheduler_job_runs_total", { job: name, status: "failed" })).toBe(0);
    expect(sample(families, "scheduler_job_last_run_timestamp_seconds", job)).toBe((due + 2_000) / 1000);
    expect(sample(families, "scheduler_job_last_success_timestamp_seconds", job)).toBe((due + 2_000) / 1000);
    expect(sample(families, "scheduler_job_last_duration_seconds", job)).toBe(0);
    expect(sample(families, "scheduler_job_next_run_timestamp_seconds", job)).toBe((due + MINUTE) / 1000);
    expect(sample(families, "scheduler_alerts_open", { job: name, kind: "failing" })).toBe(0);
    for (const status of ["pending", "sending", "sent", "failed", "dead"]) expect(sample(families, "scheduler_notifications", { status })).toBeGreaterThanOrEqual(0);
    // Bounded labels: job, status and kind only; no run ids anywhere.
    const labelNames = new Set([...families.values()].flatMap((f) => f.metrics.flatMap((m) => Object.keys(m.labels ?? {}))));
    expect([...labelNames].sort()).toEqual(["job", "kind", "status"]);
  });

  it("counters never go down, though the runs they count are pruned; open alerts show", async () => {
    const name = uniqueName("monotonic");
    await registerJob(name, { handler: "testBroken" });
    for (let i = 0; i < 2; i++) {
      await call("POST", `/jobs/${name}/trigger`, { body: {} });
      await settled(name);
    }
    let { families } = await scrape();
    expect(sample(families, "scheduler_job_runs_total", { job: name, status: "failed" })).toBe(2);
    expect(sample(families, "scheduler_alerts_open", { job: name, kind: "failing" })).toBe(1);
    await env.DB.prepare("DELETE FROM runs WHERE job_name = ?").bind(name).run(); // retention
    ({ families } = await scrape());
    expect(sample(families, "scheduler_job_runs_total", { job: name, status: "failed" })).toBe(2);
    await call("POST", `/jobs/${name}/trigger`, { body: {} });
    await settled(name);
    ({ families } = await scrape());
    expect(sample(families, "scheduler_job_runs_total", { job: name, status: "failed" })).toBe(3);
  });

  it("follows REQUIRE_AUTH_FOR_READS and accepts the bearer token", async () => {
    const scrapeWith = async (token?: string) => {
      const ctx = createExecutionContext();
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      const response = await worker.fetch(new Request(`${BASE}/metrics`, { headers }), { ...env, REQUIRE_AUTH_FOR_READS: "true" }, ctx);
      await waitOnExecutionContext(ctx);
      return { status: response.status, body: await response.text() };
    };
    const refused = await scrapeWith();
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).error.code).toBe("unauthorized");
    const allowed = await scrapeWith("test-key-read");
    expect(allowed.status).toBe(200);
    expect(parsePrometheusTextFormat(allowed.body).length).toBe(Object.keys(SERIES).length);
  });
});

describe("Analytics Engine (RUN_METRICS)", () => {
  it("one data point per finished real run: job, status, trigger kind, duration, lateness; none for a dry run", async () => {
    const name = uniqueName("ae");
    await registerJob(name, { cron_expression: "* * * * *", handler: "testFlaky" });
    const due = minuteFloor(clockNow()) + MINUTE;
    advanceClock(due - clockNow() + 2_500);
    await setNext(name, due);
    await fireAlarm(name);
    await settled(name);
    failNext(name, 1);
    await call("POST", `/jobs/${name}/trigger`, { body: {} });
    await settled(name);
    await call("POST", `/jobs/${name}/trigger`, { body: { dry_run: true } });
    await settled(name);

    expect(await schedulerOf(name).writtenDataPoints()).toEqual([
      { indexes: [name], blobs: [name, "success", "scheduled", "run-0001"], doubles: [0, 2_500, 1] },
      { indexes: [name], blobs: [name, "failed", "manual", "run-0002"], doubles: [0, 0, 1] },
    ]);
  });
});
