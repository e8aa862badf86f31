import { and, gte, lte } from "drizzle-orm";
import { Hono } from "hono";
import { nextRunAfter } from "../src/cron/schedule";
import { createDb } from "../src/db/client";
import { jobs } from "../src/db/schema";
import type { Env } from "../src/env";
import { clock } from "../src/lib/clock";
import { isoMs } from "../src/lib/instants";
import * as jobsService from "../src/services/jobs-service";
import { PAGE_ROWS } from "../src/handlers/chunked";
import { readActiveMentorPage } from "../src/repositories/platform-repo";
import type { BaselineObject } from "./baseline-object";
import { D1Meter, type MeterTotals } from "./d1-meter";
import type { MeteredJobScheduler } from "./metered-job-scheduler";

export interface BenchEnv extends Env {
  BASELINE: DurableObjectNamespace<BaselineObject>;
  METERED_SCHEDULER: DurableObjectNamespace<MeteredJobScheduler>;
}

/** Job and baseline names: `<prefix>-00042`, so a prefix is a contiguous name range. */
export const benchName = (prefix: string, i: number) => `${prefix}-${String(i).padStart(5, "0")}`;

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);

/** Bench-only routes, under /__bench/ (bench/wrangler.toml only). */
export const benchRoutes = new Hono<{ Bindings: BenchEnv }>().basePath("/__bench");

benchRoutes.post("/setup", async (c) => {
  await c.env.DB.exec(
    "CREATE TABLE IF NOT EXISTS bench_baseline (phase TEXT NOT NULL, name TEXT NOT NULL, scheduled_ms INTEGER NOT NULL, " +
      "entered_ms INTEGER NOT NULL, recorded_ms INTEGER NOT NULL, PRIMARY KEY (phase, name))",
  );
  return c.json({ ok: true });
});

/**
 * Registers `count` jobs in D1 in a few statements (same columns and defaults
 * as POST /jobs; next_run_at from the same cron code). Arming is separate.
 */
benchRoutes.post("/jobs", async (c) => {
  const body = await c.req.json<{ prefix: string; count: number; cron: string; handler: string; overlap_policy?: string; is_active?: boolean }>();
  const now = clock.now();
  const isActive = body.is_active ?? true;
  const next = isActive ? nextRunAfter(body.cron, "UTC", now) : null;
  const names = range(0, body.count).map((i) => benchName(body.prefix, i));
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < names.length; i += 500) {
    statements.push(
      c.env.DB.prepare(
        `INSERT INTO jobs (job_name, cron_expression, timezone, handler, is_active, overlap_policy, misfire_policy,
           catchup_window_seconds, max_retries, timeout_seconds, created_at, updated_at, next_run_at)
         SELECT value, ?2, 'UTC', ?3, ?4, ?5, 'run_once', 86400, 0, 300, ?6, ?6, ?7 FROM json_each(?1)`,
      ).bind(JSON.stringify(names.slice(i, i + 500)), body.cron, body.handler, isActive ? 1 : 0, body.overlap_policy ?? "skip", isoMs(now), next ? isoMs(next) : null),
    );
  }
  if (statements.length > 0) await c.env.DB.batch(statements);
  return c.json({ inserted: names.length, next_run_at: next ? isoMs(next) : null });
});

/** Arms jobs `from`..`to-1` of a prefix through the JobScheduler RPC that registration uses. */
benchRoutes.post("/jobs/arm", async (c) => {
  const body = await c.req.json<{ prefix: string; from: number; to: number; metered?: boolean; concurrency?: number }>();
  const started = Date.now();
  const rows = await createDb(c.env.DB)
    .select()
    .from(jobs)
    .where(and(gte(jobs.jobName, benchName(body.prefix, body.from)), lte(jobs.jobName, benchName(body.prefix, body.to - 1))));
  const namespace = body.metered ? c.env.METERED_SCHEDULER : c.env.JOB_SCHEDULER;
  // The next instant as of arming, as if the job were registered now: on a busy machine
  // an instant can pass while a large group is armed, and the bench must not then
  // measure a storm of catch-up runs instead of the instant it planned.
  const nextAsOfNow = (row: (typeof rows)[number]) => {
    if (row.nextRunAt === null || Date.parse(row.nextRunAt) > clock.now().getTime()) return row.nextRunAt;
    const next = nextRunAfter(row.cronExpression, row.timezone, clock.now());
    return next ? isoMs(next) : null;
  };
  // Move such instants in D1 first; each job's object (its owner) then arms itself from a fresh read.
  const moved = rows.filter((row) => nextAsOfNow(row) !== row.nextRunAt);
  for (let i = 0; i < moved.length; i += 500) {
    const part = moved.slice(i, i + 500);
    await c.env.DB.prepare("UPDATE jobs SET next_run_at = ?2 WHERE job_name IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(part.map((row) => row.jobName)), nextAsOfNow(part[0]!))
      .run();
  }
  await pool(rows, body.concurrency ?? 25, (row) => namespace.getByName(row.jobName).reconcile(row.jobName));
  return c.json({ armed: rows.length, ms: Date.now() - started });
});

benchRoutes.post("/baseline/arm", async (c) => {
  const body = await c.req.json<{ phase: string; from: number; to: number; at: number; concurrency?: number }>();
  const started = Date.now();
  const ids = range(body.from, body.to);
  await pool(ids, body.concurrency ?? 25, (i) => {
    const name = benchName(body.phase, i);
    return c.env.BASELINE.getByName(name).arm(body.phase, name, body.at);
  });
  return c.json({ armed: ids.length, ms: Date.now() - started });
});

/** Progress (and with detail=1, the rows) of the runs of one prefix for one scheduled instant. */
benchRoutes.get("/runs", async (c) => {
  const prefix = c.req.query("prefix")!;
  const instant = c.req.query("scheduled_for")!;
  const where = "job_name >= ?1 AND job_name < ?2 AND scheduled_for = ?3";
  const args = [`${prefix}-`, `${prefix}.`, instant];
  const counts = await c.env.DB.prepare(
    `SELECT count(*) AS total, coalesce(sum(status NOT IN ('running')), 0) AS finished FROM runs WHERE ${where}`,
  )
    .bind(...args)
    .first<{ total: number; finished: number }>();
  const rows =
    c.req.query("detail") === "1"
      ? (await c.env.DB.prepare(`SELECT started_at, completed_at, status FROM runs WHERE ${where}`).bind(...args).raw())
      : undefined;
  return c.json({ now: Date.now(), ...counts, rows });
});

benchRoutes.get("/baseline", async (c) => {
  const phase = c.req.query("phase")!;
  const count = await c.env.DB.prepare("SELECT count(*) AS n FROM bench_baseline WHERE phase = ?1").bind(phase).first<number>("n");
  const rows =
    c.req.query("detail") === "1"
      ? await c.env.DB.prepare("SELECT scheduled_ms, entered_ms, recorded_ms FROM bench_baseline WHERE phase = ?1").bind(phase).raw()
      : undefined;
  return c.json({ now: Date.now(), count, rows });
});

/** D1 rows read and written by the list endpoint's own service call (GET /jobs?page=&limit=). */
benchRoutes.get("/meter/list", async (c) => {
  const page = Number(c.req.query("page") ?? 1);
  const limit = Number(c.req.query("limit") ?? 20);
  const meter = new D1Meter();
  const result = await jobsService.listJobs(createDb(meter.wrap(c.env.DB)), page, limit);
  return c.json({ ...meter.totals, returned: result.data.length, total: result.pagination.total });
});

/** The D1 totals of metered job objects `0..count-1` of a prefix. */
benchRoutes.get("/meter/jobs", async (c) => {
  const prefix = c.req.query("prefix")!;
  const count = Number(c.req.query("count"));
  const totals: (MeterTotals | null)[] = [];
  for (const i of range(0, count)) totals.push(await c.env.METERED_SCHEDULER.getByName(benchName(prefix, i)).benchMeter());
  return c.json({ totals });
});

/**
 * The nightly benchmark's floor: one page of the nightly check's own read
 * (active mentors by id, with their certifications), only read and counted.
 * The runner calls it page after page, one request per page as the run takes
 * one invocation per step, so nightly_vs_scan_ratio compares the run with
 * reading the same rows in the same chunks.
 */
benchRoutes.get("/scan", async (c) => {
  const after = c.req.query("after") ?? "";
  const limit = Number(c.req.query("limit") ?? PAGE_ROWS);
  const rows = await readActiveMentorPage(createDb(c.env.DB), after === "" ? null : after, limit);
  let certifications = 0;
  for (const row of rows) certifications += row.certifications.length;
  return c.json({ rows: rows.length, certifications, last: rows.at(-1)?.mentorId ?? null });
});
