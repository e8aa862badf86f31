/**
 * The delivery benchmark's Worker (bench/delivery.mjs): the service exactly as
 * src/index.ts exports it, plus a bare queue consumer that only acknowledges
 * (the baseline) and routes to seed a run's outbox rows and start each phase.
 * Only the generated bench/out/delivery.wrangler.toml points here.
 */
import { Hono } from "hono";
import { createDb } from "../src/db/client";
import { enqueueRunNotifications } from "../src/delivery/enqueue";
import type { Env } from "../src/env";
import service from "../src/index";

export { JobScheduler, Supervisor } from "../src/index";

interface BenchEnv extends Env {
  BARE: Queue<{ id: number }>;
}

// The baseline's whole bookkeeping: a counter in this isolate (wrangler dev runs one).
const bare = { acked: 0, lastAckMs: 0 };

const routes = new Hono<{ Bindings: BenchEnv }>().basePath("/__bench");

/** Writes `count` pending reminder rows for one run, as the nightly handler would (500 rows per statement). */
routes.post("/delivery/seed", async (c) => {
  const { count, runId, jobName } = await c.req.json<{ count: number; runId: string; jobName: string }>();
  const now = new Date().toISOString();
  const statements: D1PreparedStatement[] = [];
  for (let from = 0; from < count; from += 500) {
    const items = Array.from({ length: Math.min(500, count - from) }, (_, k) => {
      const i = from + k;
      return {
        key: `bench:${runId}:${i}`,
        mentor: `bench-mentor-${i}`,
        payload: JSON.stringify({ mentor_id: `bench-mentor-${i}`, email: `bench-${i}@example.org`, certification_id: `bench-cert-${i}`, certification_name: "First Aid", expires_at: now, window_days: 7 }),
      };
    });
    statements.push(
      c.env.DB.prepare(
        `INSERT INTO notification_outbox (dedupe_key, mentor_id, kind, payload, created_at, created_by_run, job_name)
         SELECT json_extract(value, '$.key'), json_extract(value, '$.mentor'), 'cert_expiry_reminder', json_extract(value, '$.payload'), ?, ?, ?
         FROM json_each(?)`,
      ).bind(now, runId, jobName, JSON.stringify(items)),
    );
  }
  await c.env.DB.batch(statements);
  return c.json({ seeded: count });
});

/** The step under test: after the run's batch committed, its rows go to the queue. */
routes.post("/delivery/enqueue", async (c) => {
  const { runId, jobName } = await c.req.json<{ runId: string; jobName: string }>();
  const queued = await enqueueRunNotifications(c.env, createDb(c.env.DB), { jobName, runId });
  return c.json({ queued });
});

routes.get("/delivery/status", async (c) => {
  const { runId } = c.req.query();
  const { results } = await c.env.DB.prepare("SELECT status, count(*) AS n FROM notification_outbox WHERE created_by_run = ? GROUP BY status").bind(runId).all();
  return c.json(results);
});

/** The baseline: the same number of messages through a queue whose consumer only acknowledges. */
routes.post("/bare/send", async (c) => {
  const { count } = await c.req.json<{ count: number }>();
  bare.acked = 0;
  for (let i = 0; i < count; i += 100) {
    await c.env.BARE.sendBatch(Array.from({ length: Math.min(100, count - i) }, (_, k) => ({ body: { id: i + k + 1 } })));
  }
  return c.json({ sent: count });
});
routes.get("/bare/status", (c) => c.json(bare));

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname.startsWith("/__bench/")) return routes.fetch(request, env, ctx);
    return service.fetch(request, env, ctx);
  },
  scheduled: service.scheduled,
  async queue(batch, env) {
    if (batch.queue === "bench-bare") {
      batch.ackAll();
      bare.acked += batch.messages.length;
      bare.lastAckMs = Date.now();
      return;
    }
    return service.queue(batch as MessageBatch<unknown>, env);
  },
} satisfies ExportedHandler<BenchEnv>;
