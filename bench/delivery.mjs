#!/usr/bin/env node
// `npm run bench:delivery`: 10,000 notifications from one run to a local receiver
// (e2e/receiver.mjs on 127.0.0.1, verifying every signature), against the same number
// of messages through a bare queue consumer that only acknowledges, in the same run.
//   delivery_seconds_10k  from the run's enqueue call until the receiver has accepted all
//   bare_seconds_10k      from the baseline's send until its consumer has acknowledged all
//   delivery_ratio        delivery / bare (target <= 2)
//   lost, duplicates      counted by the receiver (target 0 and 0)
// For the breakdown, in the same run and with the same batch settings:
//   http_only_seconds_10k a consumer that signs and POSTs each message to the same receiver
//                         with the same in-flight cap, but keeps no outbox (no D1)
//   http_floor_seconds_10k a plain Node client in its own process POSTing the same number of
//                         signed events to the receiver, same in-flight cap: no queue, no workerd
//   delivery_ratio_floor  (bare + http_floor) / bare: the least delivery_ratio any consumer can
//                         show here, since the local queue hands out the next batch only when
//                         the last has returned (so a batch's requests cannot overlap the hand-off)
//   enqueue_seconds       until enqueueRunNotifications returned (the consumer starts meanwhile)
//   batch_ms              medians per batch of 100 from the consumer's delivery.batch log
//                         lines: claim (one UPDATE ... RETURNING), send, record (one UPDATE)
// Writes bench/out/delivery-results.json (git-ignored). BENCH_DELIVERY_COUNT overrides 10,000;
// NOTIFY_MAX_IN_FLIGHT, if set, is passed to the service (default 50).
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { newSecret, startReceiver } from "../e2e/receiver.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const COUNT = Number(process.env.BENCH_DELIVERY_COUNT ?? 10_000);
const PORT = Number(process.env.BENCH_PORT ?? 8795);
const PHASE_TIMEOUT_MS = 240_000;
const IN_FLIGHT = Number(process.env.NOTIFY_MAX_IN_FLIGHT ?? 50); // the service's default cap
const OUT = join(ROOT, "bench", "out");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" };
const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
const run = promisify(execFile);

mkdirSync(OUT, { recursive: true });
const secret = newSecret();
const receiver = await startReceiver({ secret, keep: false });

// The service's own wrangler.toml, with the bench worker as main, the baseline's queue,
// and delivery pointed at the receiver (webhook channel: one request per notification).
const base = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
  .replace('main = "src/index.ts"', 'main = "../delivery-worker.ts"')
  .replace('migrations_dir = "migrations"', 'migrations_dir = "../../migrations"')
  .replace('"./src/lib/zod-locales-en.ts"', '"../../src/lib/zod-locales-en.ts"')
  .replace('directory = "./public"', 'directory = "../../public"')
  .replace(/\[build\]\ncommand = .*\n/, "")
  .replace(/\[triggers\]\ncrons = .*\n/, "")
  .replace(
    'NOTIFY_CHANNEL = "email"',
    `NOTIFY_CHANNEL = "webhook"\nSCHEDULER_API_TOKEN = "bench-token"\nNOTIFY_WEBHOOK_URL = "${receiver.url}"\nNOTIFY_WEBHOOK_SECRET = "${secret}"` +
      (process.env.NOTIFY_MAX_IN_FLIGHT ? `\nNOTIFY_MAX_IN_FLIGHT = "${process.env.NOTIFY_MAX_IN_FLIGHT}"` : ""),
  );
const config = join(OUT, "delivery.wrangler.toml");
/** A queue with its producer binding and a consumer in this Worker, batched as the notifications consumer is. */
const benchQueue = (comment, binding, queue) => `
# ${comment}
[[queues.producers]]
binding = "${binding}"
queue = "${queue}"

[[queues.consumers]]
queue = "${queue}"
max_batch_size = 100
max_batch_timeout = 1
max_concurrency = 1
`;
writeFileSync(
  config,
  base +
    benchQueue("The baseline: same batch settings as the notifications consumer, no work.", "BARE", "bench-bare") +
    benchQueue("The breakdown: same batch settings, signed POSTs to the receiver, no outbox.", "HTTP_ONLY", "bench-http"),
);

// tmpfs when there is one, as bench/lib/server.mjs does: D1 is a SQLite file.
const state = mkdtempSync(join(process.env.BENCH_TMPDIR ?? (existsSync("/dev/shm") ? "/dev/shm" : tmpdir()), "nightly-bench-delivery-"));
await run(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state, "-c", config], { cwd: ROOT, env });
const logFile = join(OUT, "delivery-server.log");
const server = spawn(process.execPath, [join(ROOT, "bench", "lib", "dev-server.mjs"), config, String(PORT), state], {
  cwd: ROOT,
  env,
  detached: true,
  stdio: ["ignore", openSync(logFile, "w"), openSync(logFile, "a")],
});
const origin = `http://127.0.0.1:${PORT}`;
const stop = () => {
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {}
};

async function until(what, fn, timeoutMs = PHASE_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 25));
  }
}
/** Medians of the consumer's per-batch timings (its delivery.batch log lines). */
function batchMedians(file) {
  const batches = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.includes('"event":"delivery.batch"'))
    .map((line) => JSON.parse(line.slice(line.indexOf("{"))));
  const median = (key) => {
    const values = batches.map((b) => b[key]).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)] ?? null;
  };
  return { batches: batches.length, claim: median("claim_ms"), send: median("send_ms"), record: median("record_ms") };
}
const post = (path, body) => fetch(origin + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());

let figures;
try {
  if (!(await until("the server", async () => (await fetch(`${origin}/api/v1/scheduler/health`)).status > 0, 120_000))) throw new Error(`server did not start; see ${logFile}`);
  const runId = "run-0001";
  const jobName = "bench-delivery";
  console.log(`bench:delivery: ${COUNT} notifications, receiver ${receiver.url}`);
  await post("/__bench/delivery/seed", { count: COUNT, runId, jobName });

  // Baseline first: the queue alone, same message count, same batch settings.
  const bareStart = performance.now();
  await post("/__bench/bare/send", { count: COUNT });
  const bareDone = await until("the bare consumer", async () => (await (await fetch(`${origin}/__bench/bare/status`)).json()).acked >= COUNT);
  const bareSeconds = (performance.now() - bareStart) / 1000;
  if (!bareDone) throw new Error("the bare consumer did not acknowledge every message in time");

  // The breakdown's middle step: queue and signed HTTP, no outbox. Its own ids (bench_<n>).
  const httpStart = performance.now();
  await post("/__bench/http/send", { count: COUNT });
  const httpDone = await until("the HTTP-only consumer", async () => receiver.state.accepted.size >= COUNT);
  const httpSeconds = (performance.now() - httpStart) / 1000;
  if (!httpDone) throw new Error("the HTTP-only consumer did not deliver every message in time");
  const httpRequests = receiver.state.requests;
  receiver.state.accepted = new Map();
  receiver.state.requests = 0;

  // The floor: the same requests from a plain Node client, no queue, no workerd.
  const floor = JSON.parse(
    (await run(process.execPath, [join(ROOT, "bench", "lib", "post-floor.mjs"), receiver.url, secret, String(COUNT), String(IN_FLIGHT)], { env })).stdout,
  );
  if (floor.failed > 0 || receiver.state.accepted.size < COUNT) throw new Error(`the floor client: ${floor.failed} requests failed`);
  receiver.state.accepted = new Map();
  receiver.state.requests = 0;

  const start = performance.now();
  const { queued } = await post("/__bench/delivery/enqueue", { runId, jobName });
  const enqueueSeconds = (performance.now() - start) / 1000;
  const delivered = await until("the receiver", async () => receiver.state.accepted.size >= COUNT);
  const seconds = (performance.now() - start) / 1000;
  // A moment for any late duplicate to show up before counting.
  await new Promise((r) => setTimeout(r, 2000));
  const statuses = await (await fetch(`${origin}/__bench/delivery/status?runId=${runId}`)).json();

  figures = {
    count: COUNT,
    queued,
    delivered: receiver.state.accepted.size,
    lost: COUNT - receiver.state.accepted.size,
    duplicates: receiver.duplicates(),
    invalid_signatures: receiver.state.invalid,
    requests: receiver.state.requests,
    connections: receiver.state.connections,
    delivery_seconds_10k: Number(seconds.toFixed(2)),
    bare_seconds_10k: Number(bareSeconds.toFixed(2)),
    delivery_ratio: Number((seconds / bareSeconds).toFixed(2)),
    http_only_seconds_10k: Number(httpSeconds.toFixed(2)),
    http_only_ratio: Number((httpSeconds / bareSeconds).toFixed(2)),
    http_only_requests: httpRequests,
    http_floor_seconds_10k: Number(floor.seconds.toFixed(2)),
    delivery_ratio_floor: Number(((bareSeconds + floor.seconds) / bareSeconds).toFixed(2)),
    enqueue_seconds: Number(enqueueSeconds.toFixed(2)),
    batch_ms: batchMedians(logFile),
    outbox: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
    complete: Boolean(delivered),
    at: new Date().toISOString(),
  };
} finally {
  stop();
  await receiver.close();
  rmSync(state, { recursive: true, force: true });
}

writeFileSync(join(OUT, "delivery-results.json"), JSON.stringify(figures, null, 2) + "\n");
console.table(figures);
const ok = figures.lost === 0 && figures.duplicates === 0 && figures.invalid_signatures === 0 && figures.delivery_ratio <= 2;
console.log(`bench:delivery: ${ok ? "every target met" : "TARGET MISSED"} (lost 0, duplicates 0, delivery_ratio <= 2)`);
process.exit(ok ? 0 : 1);
