/**
 * The delivery benchmark's Worker (bench/delivery.mjs): the service exactly as
 * src/index.ts exports it, plus a bare queue consumer that only acknowledges
 * (the baseline) and routes to seed a run's outbox rows and start each phase.
 * Only the generated bench/out/delivery.wrangler.toml points here.
 */
import { Hono } from "hono";
import { createDb } from "../src/db/client";
import { deliveryConfig } from "../src/delivery/config";
import { pool } from "../src/delivery/consumer";
import { enqueueRunNotifications } from "../src/delivery/enqueue";
import { sendWebhook } from "../src/delivery/webhook";
import type { Env } from "../src/env";
import service from "../src/index";

export { JobScheduler, Supervisor } from "../src/index";

interface BenchEnv extends Env {
  BARE: Queue<{ id: number }>;
  HTTP_ONLY: Queue<{ id: number }>;
}

// The baseline's whole bookkeeping: a counter in this isolate (wrangler dev runs one).
const bare = { acked: 0, lastAckMs: 0 };

/** A seeded row's payload, as /delivery/seed writes it (the HTTP-only phase sends the same bodies). */
function benchPayload(i: number, at: string) {
  return { mentor_id: `bench-mentor-${i}`, email: `bench-${i}@example.org`, certification_id: `bench-cert-${i}`, certification_name: "First Aid", expires_at: at, window_days: 7 };
}

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
        payload: JSON.stringify(benchPayload(i, now)),
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

/**
 * The baseline (BARE: a consumer that only acknowledges) and the breakdown's middle
 * step (HTTP_ONLY: a consumer that signs and POSTs each message to the receiver, as
 * the service does, with the same in-flight cap, but keeps no outbox): the same
 * number of messages, same batch settings.
 */
routes.post("/:queue{bare|http}/send", async (c) => {
  const { count } = await c.req.json<{ count: number }>();
  const queue = c.req.param("queue") === "bare" ? c.env.BARE : c.env.HTTP_ONLY;
  bare.acked = 0;
  for (let i = 0; i < count; i += 100) {
    await queue.sendBatch(Array.from({ length: Math.min(100, count - i) }, (_, k) => ({ body: { id: i + k + 1 } })));
  }
  return c.json({ sent: count });
});
routes.get("/bare/status", (c) => c.json(bare));

async function sendOnly(batch: MessageBatch<{ id: number }>, env: BenchEnv): Promise<void> {
  const config = deliveryConfig(env);
  const at = new Date().toISOString();
  await pool(batch.messages, config.maxInFlight, async (message) => {
    const id = `bench_${message.body.id}`;
    const event = { type: "cert_expiry_reminder", timestamp: at, data: { notification_id: id, ...benchPayload(message.body.id, at) } };
    const attempt = await sendWebhook(config.webhook!, id, event, new Date());
    if (attempt.kind === "ok") message.ack();
    else message.retry();
  });
}

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
    if (batch.queue === "bench-http") return sendOnly(batch as MessageBatch<{ id: number }>, env);
    return service.queue(batch as MessageBatch<unknown>, env);
  },
} satisfies ExportedHandler<BenchEnv>;
