// The measurements: jobs and bare baseline objects due at one instant, the
// list endpoint's D1 cost and throughput, trigger latency, D1 writes per run.
import autocannon from "autocannon";
import { pollUntil, pool, sleepUntil } from "./http.mjs";
import { summary } from "./stats.mjs";

// The jobs' handler: one that does nothing (bench/worker.ts), so the figures are the
// scheduler's, as the baseline's are the bare runtime's. BENCH_HANDLER names a built-in
// one instead, to see a real handler's share (see bench/RESULTS.md).
export const HANDLER = "benchNoop";
export const API = "/api/v1/scheduler";
export const TOKEN = "bench-token"; // bench/wrangler.toml [vars]

const iso = (ms) => new Date(ms).toISOString();
const ARM_CHUNK = 250;

/** The first minute boundary at or after `ms`. */
export const minuteAtOrAfter = (ms) => Math.ceil(ms / 60_000) * 60_000;

/**
 * A 5-field cron expression that fires at each of `instants` (minute boundaries, UTC,
 * within one hour of each other): `7,9,11 * * * *`. It fires again an hour later, long
 * after the run has ended.
 */
export function cronForMinutes(instants) {
  if (Math.max(...instants) - Math.min(...instants) >= 3_600_000) throw new Error("cronForMinutes: the instants span an hour or more");
  return `${[...new Set(instants.map((ms) => new Date(ms).getUTCMinutes()))].join(",")} * * * *`;
}

/** A 5-field cron expression that fires at `instant` (a minute boundary, UTC) and then not for a year. */
export function cronFor(instant) {
  const d = new Date(instant);
  return `${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} *`;
}

/**
 * Registers `count` jobs in D1 (bulk route) and arms each one through the
 * JobScheduler's configure() RPC, a chunk per request, two requests at a time.
 */
export async function registerJobs(api, { prefix, count, cron, overlap = "skip", metered = false, handler = HANDLER }) {
  const started = Date.now();
  const { next_run_at } = await api.post("/__bench/jobs", { prefix, count, cron, handler, overlap_policy: overlap });
  const chunks = [];
  for (let from = 0; from < count; from += ARM_CHUNK) chunks.push([from, Math.min(count, from + ARM_CHUNK)]);
  let armed = 0;
  await pool(chunks, 2, async ([from, to]) => {
    const result = await api.post("/__bench/jobs/arm", { prefix, from, to, metered });
    armed += result.armed; // after the await: `armed += await ...` would read armed before it
  });
  if (armed !== count) throw new Error(`armed ${armed} of ${count} ${prefix} jobs`);
  return { ms: Date.now() - started, nextRunAt: next_run_at };
}

/** Arms `count` bare BaselineObjects for the instant `at`. */
export async function armBaseline(api, { phase, count, at }) {
  const started = Date.now();
  const chunks = [];
  for (let from = 0; from < count; from += ARM_CHUNK) chunks.push([from, Math.min(count, from + ARM_CHUNK)]);
  await pool(chunks, 2, ([from, to]) => api.post("/__bench/baseline/arm", { phase, from, to, at }));
  return { ms: Date.now() - started };
}

/**
 * Waits until every one of `count` things is recorded: polls the D1 file
 * directly when it can (`file`, every 50 ms, costs the Worker nothing),
 * otherwise a bench route (whose answer can queue behind the fan-out).
 * Returns when (this machine's clock) D1 was first seen complete.
 */
async function waitRecorded({ fromFile, fromRoute, count, pollMs, timeoutMs, what }) {
  let polls = 0;
  const done = await pollUntil(
    async () => {
      polls++;
      if (fromFile) {
        const seenAt = Date.now();
        return fromFile() >= count ? { at: seenAt, via: "d1-file" } : null;
      }
      const status = await fromRoute();
      return status.n >= count ? { at: status.now, via: "route" } : null;
    },
    { intervalMs: fromFile ? 50 : pollMs, timeoutMs, what },
  );
  return { ...done, polls };
}

/**
 * Waits for `instant`, then until every run of the prefix for it is finished
 * in D1. Lateness per run is started_at - scheduled instant; fan-out is when
 * D1 first held all of them as finished.
 */
export async function observeJobs(api, { prefix, count, instant, pollMs, timeoutMs, file }) {
  const startedLate = Date.now() > instant; // (the smoke run) polls cannot time the end: D1's own times do
  await sleepUntil(instant);
  const qs = `prefix=${encodeURIComponent(prefix)}&scheduled_for=${encodeURIComponent(iso(instant))}`;
  const done = await waitRecorded({
    fromFile: file && (() => file.finishedRuns(prefix, iso(instant))),
    fromRoute: async () => {
      const status = await api.get(`/__bench/runs?${qs}`);
      return { n: status.finished, now: status.now };
    },
    count,
    pollMs,
    timeoutMs,
    what: `${count} ${prefix} runs to finish`,
  });
  const { rows } = await api.get(`/__bench/runs?${qs}&detail=1`);
  const lateness = rows.map(([startedAt]) => Date.parse(startedAt) - instant);
  const lastCompleted = Math.max(...rows.map(([, completedAt]) => Date.parse(completedAt)));
  return {
    lateness: summary(lateness),
    fanoutSeconds: startedLate ? (lastCompleted - instant) / 1000 : (done.at - instant) / 1000,
    lastCompletedSeconds: (lastCompleted - instant) / 1000,
    succeeded: rows.filter(([, , status]) => status === "success").length,
    observedVia: done.via,
    polls: done.polls,
  };
}

/** The same for baseline objects: each wrote one D1 row on entering its alarm. */
export async function observeBaseline(api, { phase, count, at, pollMs, timeoutMs, file }) {
  const startedLate = Date.now() > at;
  await sleepUntil(at);
  const qs = `phase=${encodeURIComponent(phase)}`;
  const done = await waitRecorded({
    fromFile: file && (() => file.baselineRows(phase)),
    fromRoute: async () => {
      const status = await api.get(`/__bench/baseline?${qs}`);
      return { n: status.count, now: status.now };
    },
    count,
    pollMs,
    timeoutMs,
    what: `${count} ${phase} baseline rows`,
  });
  const { rows } = await api.get(`/__bench/baseline?${qs}&detail=1`);
  const lateness = rows.map(([scheduled, entered]) => entered - scheduled);
  const lastRecordedSeconds = (Math.max(...rows.map(([, , recorded]) => recorded)) - at) / 1000;
  return {
    lateness: summary(lateness),
    fanoutSeconds: startedLate ? lastRecordedSeconds : (done.at - at) / 1000,
    lastRecordedSeconds,
    observedVia: done.via,
    polls: done.polls,
  };
}

/** autocannon, with every response's status and latency collected. */
export function load(options) {
  return new Promise((resolve, reject) => {
    const responses = [];
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve({ result, responses })));
    instance.on("response", (_client, statusCode, _bytes, responseTime) => responses.push([statusCode, responseTime]));
  });
}

/** Requests/s of GET /jobs?limit=20 and of the no-op route, same server, same settings. */
export async function listVsNoop(api, { connections, duration }) {
  const listPath = `${API}/jobs?limit=20`;
  await load({ url: `${api.base}/__bench/noop`, connections, duration: 1 }); // warm-up
  await load({ url: `${api.base}${listPath}`, connections, duration: 1 });
  // `duration` seconds each, in halves ordered no-op, list, list, no-op: background work
  // on the server (objects evicted, a supervisor pass) then weighs on both equally.
  const half = duration / 2;
  const segments = [];
  for (const path of ["/__bench/noop", listPath, listPath, "/__bench/noop"]) {
    const { result } = await load({ url: `${api.base}${path}`, connections, duration: half });
    segments.push({ path, ok: result["2xx"], errors: result.errors + result.non2xx, p99: result.latency.p99 });
  }
  const total = (path) => {
    const mine = segments.filter((s) => s.path === path);
    const requests = mine.reduce((sum, s) => sum + s.ok, 0);
    return { rps: requests / duration, requests, errors: mine.reduce((sum, s) => sum + s.errors, 0), p99: Math.max(...mine.map((s) => s.p99)) };
  };
  const noop = total("/__bench/noop");
  const list = total(listPath);
  return { noop, list, ratio: list.rps / noop.rps, segments };
}

/** p99 latency of POST .../trigger (202s only) under `connections` concurrent clients, cycling over `names`. */
export async function triggerLatency(api, { names, connections, duration }) {
  let next = 0;
  const { result, responses } = await load({
    url: api.base,
    connections,
    duration,
    requests: [
      {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ triggered_by: "bench" }),
        setupRequest: (request) => ({ ...request, path: `${API}/jobs/${names[next++ % names.length]}/trigger` }),
      },
    ],
  });
  const accepted = responses.filter(([status]) => status === 202).map(([, ms]) => ms);
  const statuses = {};
  for (const [status] of responses) statuses[status] = (statuses[status] ?? 0) + 1;
  return { ...summary(accepted), accepted: accepted.length, statuses, rps: result.requests.average };
}
