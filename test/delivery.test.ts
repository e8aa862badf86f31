import { run } from "./helpers/run-handler";
import { env } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { createDb } from "../src/db/client";
import { decodeWebhookSecret, deliveryConfig } from "../src/delivery/config";
import { enqueueIds, enqueueRunNotifications } from "../src/delivery/enqueue";
import { classifyStatus, retryAfterSeconds } from "../src/delivery/outcome";
import { sweepOutbox, REQUEUE_AFTER_MS } from "../src/delivery/sweep";
import { claimRows, finishRows, markDeadLettered, markQueued, noteNotSent } from "../src/repositories/outbox-repo";
import { checkCertificationExpiry } from "../src/handlers/certification-expiry";
import { checkHealth } from "../src/services/health-service";
import { addNotification, consume, envFor, outboxRow, plan, received } from "./helpers/delivery";
import { addMentor, at, ctx, DB, db } from "./helpers/platform-fixtures";
import { call, uniqueName } from "./helpers/api";

/** The tests' secret, from vitest.config.ts. */
const TEST_WEBHOOK_SECRET = env.NOTIFY_WEBHOOK_SECRET!;
const path = () => `/hooks/${uniqueName("t")}`;

/** Verifies a received request exactly as a receiver using the standardwebhooks package would. */
function verify(request: { headers: Record<string, string>; body: string }, secret = TEST_WEBHOOK_SECRET) {
  return new Webhook(secret).verify(request.body, request.headers) as { type: string; timestamp: string; data: Record<string, unknown> };
}

describe("webhook delivery", () => {
  it("sends a row once, signed so that standardwebhooks verifies it, and never again once sent", async () => {
    const p = path();
    const id = await addNotification();
    const { result } = await consume([id], envFor(p));
    expect(result.retryMessages).toEqual([]);

    const [request, ...more] = await received(p);
    expect(more).toEqual([]);
    expect(request!.headers["webhook-id"]).toBe(`ntf_${id}`);
    const event = verify(request!);
    expect(event.type).toBe("cert_expiry_reminder");
    expect(event.data).toMatchObject({ notification_id: `ntf_${id}`, certification_name: "First aid", window_days: 7 });
    const row = await outboxRow(id);
    expect(row).toMatchObject({ status: "sent", attempts: 1, last_error: null });
    expect(JSON.parse(row!.delivered_to)).toContain("webhook");

    // A redelivered message, and the same id queued again: nothing more goes out.
    await consume([id, id], envFor(p));
    expect(await received(p)).toHaveLength(1);
  });

  it("signs with every secret during a rotation; a receiver holding either verifies", async () => {
    const p = path();
    const newSecret = `whsec_${btoa("n".repeat(32))}`;
    const id = await addNotification();
    await consume([id], envFor(p, { NOTIFY_WEBHOOK_SECRET: `${TEST_WEBHOOK_SECRET} ${newSecret}` }));
    const [request] = await received(p);
    expect(request!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(verify(request!, TEST_WEBHOOK_SECRET).type).toBe("cert_expiry_reminder");
    expect(verify(request!, newSecret).type).toBe("cert_expiry_reminder");
    expect(() => verify(request!, `whsec_${btoa("x".repeat(32))}`)).toThrow();
  });

  it("retries a 500 with backoff through message.retry, then delivers; the retry counts an attempt", async () => {
    const p = path();
    await plan(p, { status: 500, times: 1 });
    const id = await addNotification();
    const first = await consume([id], envFor(p));
    expect(first.result.retryMessages).toMatchObject([{ msgId: first.messageIds[0] }]);
    const failed = await outboxRow(id);
    expect(failed).toMatchObject({ status: "failed", attempts: 1, last_error: "the receiver answered HTTP 500" });
    // Backoff: NOTIFY_RETRY_BASE_SECONDS (1 in the tests) after the first failure.
    expect(Date.parse(failed!.next_attempt_at)).toBeGreaterThan(Date.now());

    // The queue redelivers after the delay; the row's next attempt time has come.
    await DB.prepare("UPDATE notification_outbox SET next_attempt_at = ? WHERE notification_id = ?").bind(new Date(Date.now() - 1000).toISOString(), id).run();
    const second = await consume([id], envFor(p));
    expect(second.result.retryMessages).toEqual([]);
    expect(second.result.explicitAcks).toEqual(second.messageIds);
    expect(await outboxRow(id)).toMatchObject({ status: "sent", attempts: 2 });
    const requests = await received(p);
    expect(requests.map((r) => r.answered)).toEqual([500, 204]);
    // Same stable id on both attempts, so a receiver can tell them apart from two messages.
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([`ntf_${id}`]));
  });

  it("counts a receiver that does not answer within the timeout as a failure to retry", async () => {
    const p = path();
    await plan(p, { hang_ms: 2_000, times: 1 });
    const id = await addNotification();
    const { result } = await consume([id], envFor(p));
    expect(result.retryMessages).toHaveLength(1);
    expect(await outboxRow(id)).toMatchObject({ status: "failed", attempts: 1, last_error: "the receiver did not answer within 0.3 s" });
  });

  it("marks a 4xx (other than 408 and 429) dead at once, without retries", async () => {
    const p = path();
    await plan(p, { status: 410, times: 1 });
    const id = await addNotification();
    const { result, messageIds } = await consume([id], envFor(p));
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toEqual(messageIds);
    expect(await outboxRow(id)).toMatchObject({ status: "dead", attempts: 1, last_error: "the receiver answered HTTP 410" });
    expect(await received(p)).toHaveLength(1);
  });

  it("treats 429 as backpressure: honours Retry-After, uses up no attempt, and retries nothing through the queue", async () => {
    const p = path();
    await plan(p, { status: 429, times: 2, retry_after: 120 });
    const [a, b] = [await addNotification(), await addNotification()];
    const before = Date.now();
    const { result, messageIds } = await consume([a, b], envFor(p));
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual(messageIds.sort());
    for (const id of [a, b]) {
      const row = await outboxRow(id);
      expect(row).toMatchObject({ status: "pending", attempts: 0 });
      const due = Date.parse(row!.next_attempt_at);
      expect(due).toBeGreaterThanOrEqual(before + 115_000);
      expect(due).toBeLessThanOrEqual(Date.now() + 121_000);
    }
    expect((await received(p)).map((r) => r.answered)).toEqual([429, 429]);
  });

  it("goes dead with the last error once the row's attempts are used up", async () => {
    const p = path();
    await plan(p, { status: 503, times: 10 });
    const id = await addNotification();
    await DB.prepare("UPDATE notification_outbox SET attempts = 5 WHERE notification_id = ?").bind(id).run();
    const { result } = await consume([id], envFor(p));
    expect(result.retryMessages).toEqual([]);
    expect(await outboxRow(id)).toMatchObject({ status: "dead", attempts: 6, last_error: "the receiver answered HTTP 503 (gave up after 6 attempts)" });
  });

  it("does not send a row twice while an attempt holds its lease (a redelivered message during the attempt)", async () => {
    const p = path();
    await plan(p, { hang_ms: 150, status: 204, times: 1 });
    const id = await addNotification();
    const testEnv = envFor(p);
    const [first, second] = await Promise.all([consume([id], testEnv), consume([id], testEnv)]);
    expect(first.result.retryMessages).toEqual([]);
    expect(second.result.retryMessages).toEqual([]);
    expect(await received(p)).toHaveLength(1);
  });

  it("sends nothing anywhere while delivery is misconfigured, and says why on the row", async () => {
    const p = path();
    const id = await addNotification();
    await consume([id], envFor(p, { NOTIFY_WEBHOOK_URL: "http://receiver.test/plain" }));
    expect(await received("/plain")).toEqual([]);
    const row = await outboxRow(id);
    expect(row).toMatchObject({ status: "pending", attempts: 0 });
    expect(row!.last_error).toContain("NOTIFY_WEBHOOK_URL must be https");
  });
});

describe("email delivery", () => {
  it("sends mentor notices by email (NOTIFY_CHANNEL=email) and the webhook as well when one is set", async () => {
    const p = path();
    const id = await addNotification({ mentorId: "mail-1" });
    await consume([id], envFor(p));
    const row = await outboxRow(id);
    expect(row).toMatchObject({ status: "sent" });
    expect(JSON.parse(row!.delivered_to).sort()).toEqual(["email:mail-1@example.org", "webhook"]);
  });

  it("sends the weekly report to REPORT_RECIPIENTS with its figures, and a link to its page", async () => {
    const p = path();
    const id = await addNotification({
      kind: "weekly_expiry_report",
      mentorId: null,
      payload: { report_id: 7, run_id: "run-0003", job_name: "weekly", generated_at: "2031-01-06T08:00:00.000Z", expiring_7_days: 2, expiring_30_days: 5, paused_mentors: 1 },
    });
    await consume([id], envFor(p, { PUBLIC_BASE_URL: "https://scheduler.example.org" }));
    const row = await outboxRow(id);
    expect(row).toMatchObject({ status: "sent", mentor_id: null });
    expect(JSON.parse(row!.delivered_to).sort()).toEqual(["email:coordinators@example.org", "webhook"]);
    const event = verify((await received(p))[0]!);
    expect(event).toMatchObject({ type: "weekly_expiry_report", data: { expiring_7_days: 2, link: "https://scheduler.example.org/reports/7" } });
  });
});

describe("from a run to the receiver, through the real queue", () => {
  it("delivers every reminder a run queues exactly once, signed", async () => {
    const now = new Date();
    const prefix = uniqueName("rq");
    for (let i = 0; i < 3; i++) await addMentor(`${prefix}-${i}`, { certs: [{ id: `${prefix}-c${i}`, expiresAt: at(now, { days: 5 }) }] });
    const runId = `run-${prefix}`;
    await run(checkCertificationExpiry, ctx(now, { runId, jobName: "certification-expiry-nightly" }));
    const rows = await DB.prepare("SELECT notification_id FROM notification_outbox WHERE created_by_run = ?").bind(runId).all<{ notification_id: number }>();
    expect(rows.results).toHaveLength(3);

    expect(await enqueueRunNotifications(env, db(), { jobName: "certification-expiry-nightly", runId })).toBe(3);
    await vi.waitUntil(async () => {
      const { n } = (await DB.prepare("SELECT count(*) AS n FROM notification_outbox WHERE created_by_run = ? AND status = 'sent'").bind(runId).first<{ n: number }>())!;
      return n === 3;
    }, { timeout: 10_000, interval: 50 });

    const ours = (await received("/hooks/default")).filter((r) => r.body.includes(prefix));
    expect(ours).toHaveLength(3);
    expect(new Set(ours.map((r) => r.headers["webhook-id"]))).toEqual(new Set(rows.results.map((r) => `ntf_${r.notification_id}`)));
    for (const r of ours) expect(verify(r).data).toMatchObject({ window_days: 7 });
  });

  it("a message whose queue retries run out reaches the dead-letter queue's consumer: the row ends dead with its last error, shown by the API", async () => {
    // The receiver fails this row every time; the queue (3 deliveries in the tests) gives up before the row's 6 attempts do.
    const id = await addNotification({ runId: `run-${uniqueName("dlq")}` });
    await plan("/hooks/default", { webhook_id: `ntf_${id}`, status: 503 });
    await enqueueIds(env, db(), [id]);

    await vi.waitUntil(async () => (await outboxRow(id))!.status === "dead", { timeout: 20_000, interval: 100 });
    const lastError = "the receiver answered HTTP 503; the queue gave up on its message (dead-letter queue)";
    expect(await outboxRow(id)).toMatchObject({ status: "dead", attempts: 3, last_error: lastError, lease_token: null, sent_at: null });
    const requests = (await received("/hooks/default")).filter((r) => r.headers["webhook-id"] === `ntf_${id}`);
    expect(requests.map((r) => r.answered)).toEqual([503, 503, 503]);

    const listed = await call("GET", "/notifications?status=dead&limit=100");
    expect(listed.status).toBe(200);
    expect(listed.json.data.find((n: any) => n.notification_id === id)).toMatchObject({ status: "dead", attempts: 3, last_error: lastError });
  });

  it("a dry run queues nothing: its summary counts reminders but writes no rows", async () => {
    const now = new Date();
    const prefix = uniqueName("dry");
    await addMentor(prefix, { certs: [{ id: `${prefix}-c`, expiresAt: at(now, { days: 1 }) }] });
    const runId = `run-${prefix}`;
    const summary = await run(checkCertificationExpiry, ctx(now, { runId, dryRun: true }));
    expect(summary.reminders_sent).toBeGreaterThanOrEqual(1);
    expect(await enqueueRunNotifications(env, db(), { jobName: "test-job", runId })).toBe(0);
  });
});

describe("retry endpoint", () => {
  it("puts a dead notification back to pending, audits it, and delivers it", async () => {
    const id = await addNotification({ jobName: "certification-expiry-nightly" });
    await plan("/hooks/default", { status: 400, times: 0 });
    await DB.prepare("UPDATE notification_outbox SET status = 'dead', attempts = 1, last_error = 'the receiver answered HTTP 400' WHERE notification_id = ?").bind(id).run();

    expect((await call("POST", `/notifications/${id}/retry`, { token: null })).status).toBe(401);
    const response = await call("POST", `/notifications/${id}/retry`, { headers: { "x-request-id": "retry-from-ops-console" } });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ notification_id: id, status: "pending", attempts: 0, message_id: `ntf_${id}` });

    await vi.waitUntil(async () => (await outboxRow(id))!.status === "sent", { timeout: 10_000, interval: 50 });
    const audit = await call("GET", "/audit?job_name=certification-expiry-nightly");
    // The same audit fields as every other change, the client's request id among them.
    expect(audit.json.data[0]).toMatchObject({
      action: "notification_retry",
      client_request_id: "retry-from-ops-console",
      before: { status: "dead" },
      after: { status: "pending" },
    });

    const again = await call("POST", `/notifications/${id}/retry`);
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("not_retryable");
    expect((await call("POST", `/notifications/999999999/retry`)).status).toBe(404);
    expect((await call("POST", `/notifications/abc/retry`)).status).toBe(400);
  });
});

/** The D1 binding, recording every statement it binds (its SQL and parameters). */
function recordingD1(seen: { sql: string; params: unknown[] }[]): D1Database {
  const method = <T extends object>(target: T, key: string | symbol) => {
    const value = Reflect.get(target, key);
    return typeof value === "function" ? value.bind(target) : value;
  };
  return new Proxy(DB, {
    get(target, key) {
      if (key !== "prepare") return method(target, key);
      return (sql: string) =>
        new Proxy(target.prepare(sql), {
          get(statement, k) {
            if (k !== "bind") return method(statement, k);
            return (...params: unknown[]) => {
              seen.push({ sql, params });
              return statement.bind(...params);
            };
          },
        });
    },
  });
}

describe("outbox writes that name their rows by id", () => {
  it("look the ids up by primary key, never through the status index, so a backlog does not make them slower", async () => {
    const seen: { sql: string; params: unknown[] }[] = [];
    const recorded = createDb(recordingD1(seen));
    const ids = [await addNotification(), await addNotification()];
    const now = new Date().toISOString();
    const later = new Date(Date.now() + 60_000).toISOString();
    await markQueued(recorded, ids, now);
    await noteNotSent(recorded, ids, "not sent: a test", now);
    expect(await claimRows(recorded, ids, now, now, later, "plan-token")).toHaveLength(2);
    const result = { status: "failed" as const, attempts: 1, lastError: "x", deliveredTo: [], nextAttemptAt: now, sentAt: null };
    await finishRows(recorded, "plan-token", ids.map((id) => ({ id, ...result })));
    await markDeadLettered(recorded, ids, now);
    expect(seen).toHaveLength(5);
    expect(await outboxRow(ids[0]!)).toMatchObject({ status: "dead", attempts: 1 });

    for (const { sql, params } of seen) {
      const plan = await DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all<{ detail: string }>();
      const details = plan.results.map((r) => r.detail);
      expect(details, sql).toContainEqual(expect.stringMatching(/notification_outbox USING INTEGER PRIMARY KEY/));
      expect(details.join("\n"), sql).not.toMatch(/outbox_due/);
    }
  });
});

describe("sweep", () => {
  it("requeues rows whose message was lost, releases expired leases, and prunes old sent rows", async () => {
    const now = new Date();
    const longAgo = new Date(now.getTime() - REQUEUE_AFTER_MS - 60_000).toISOString();
    const lost = await addNotification({ createdAt: longAgo });
    const recent = await addNotification();
    const stalled = await addNotification();
    await DB.prepare("UPDATE notification_outbox SET status = 'sending', attempts = 0, lease_until = ?, lease_token = 'gone' WHERE notification_id = ?")
      .bind(new Date(now.getTime() - 1000).toISOString(), stalled)
      .run();
    const old = await addNotification();
    const kept = await addNotification();
    await DB.prepare("UPDATE notification_outbox SET status = 'sent', sent_at = ? WHERE notification_id = ?").bind(new Date(now.getTime() - 91 * 86_400_000).toISOString(), old).run();
    await DB.prepare("UPDATE notification_outbox SET status = 'sent', sent_at = ? WHERE notification_id = ?").bind(new Date(now.getTime() - 89 * 86_400_000).toISOString(), kept).run();

    const report = await sweepOutbox(env, createDb(env.DB), now);
    expect(report.leases_expired).toBeGreaterThanOrEqual(1);
    expect(report.pruned).toBeGreaterThanOrEqual(1);
    expect(await outboxRow(old)).toBeNull();
    expect(await outboxRow(kept)).toMatchObject({ status: "sent" });
    expect(await outboxRow(stalled)).toMatchObject({ attempts: 1 });
    // Requeued through the real queue: both arrive; the row written a moment ago is not the sweep's business yet.
    await vi.waitUntil(async () => (await outboxRow(lost))!.status === "sent" && (await outboxRow(stalled))!.status === "sent", { timeout: 10_000, interval: 50 });
    expect(await outboxRow(recent)).toMatchObject({ status: "pending", next_attempt_at: null });
  });
});

describe("reading", () => {
  it("lists notifications newest first with filters and a cursor, only with a token", async () => {
    const runId = `run-${uniqueName("list")}`;
    const ids = [await addNotification({ runId }), await addNotification({ runId }), await addNotification({ runId })];
    expect((await call("GET", `/notifications?run_id=${runId}`, { token: null })).status).toBe(401);
    const first = await call("GET", `/notifications?run_id=${runId}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.json.data.map((n: any) => n.notification_id)).toEqual([ids[2], ids[1]]);
    const second = await call("GET", `/notifications?run_id=${runId}&limit=2&cursor=${first.json.next_cursor}`);
    expect(second.json.data.map((n: any) => n.notification_id)).toEqual([ids[0]]);
    expect(second.json.next_cursor).toBeNull();
    const bad = await call("GET", "/notifications?status=lost");
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("status");
  });
});

describe("configuration and /health", () => {
  const problemsOf = (overrides: Record<string, string | undefined>) => deliveryConfig({ ...env, ...overrides } as never).problems;

  it("names each misconfiguration exactly", () => {
    expect(problemsOf({ NOTIFY_CHANNEL: "webhook", NOTIFY_WEBHOOK_URL: undefined })).toEqual(['NOTIFY_CHANNEL is "webhook" but NOTIFY_WEBHOOK_URL is not set']);
    expect(problemsOf({ NOTIFY_WEBHOOK_URL: "http://hooks.example.org/x" })[0]).toMatch(/^NOTIFY_WEBHOOK_URL must be https/);
    expect(problemsOf({ NOTIFY_WEBHOOK_URL: "http://127.0.0.1:9000/x" })).toEqual([]);
    expect(problemsOf({ NOTIFY_WEBHOOK_SECRET: "hunter2" })).toEqual(["NOTIFY_WEBHOOK_SECRET: secret 1 of 1 is not whsec_<base64 of 16-64 bytes>"]);
    expect(problemsOf({ NOTIFY_FROM: undefined, REPORT_RECIPIENTS: undefined })).toEqual(['NOTIFY_CHANNEL is "email" but NOTIFY_FROM (the sender address) is not set']);
    expect(problemsOf({ NOTIFY_CHANNEL: "sms" })[0]).toBe('NOTIFY_CHANNEL is "sms"; it must be "webhook" or "email"');
    expect(decodeWebhookSecret(TEST_WEBHOOK_SECRET)).toHaveLength(32);
  });

  it("/health reports delivery, and fails with the exact problem when it is misconfigured", async () => {
    const healthy = await checkHealth(env);
    expect(healthy.delivery).toMatchObject({ channel: "email", webhook: true, email: true, report_recipients: 1, problems: [] });
    const broken = await checkHealth({ ...env, NOTIFY_CHANNEL: "webhook", NOTIFY_WEBHOOK_URL: "" } as never);
    expect(broken.status).toBe("failing");
    expect(broken.problems).toContain('delivery: NOTIFY_CHANNEL is "webhook" but NOTIFY_WEBHOOK_URL is not set');
  });

  it("reads Retry-After in both forms and classifies answers", () => {
    const now = new Date("2031-01-01T00:00:00Z");
    expect(retryAfterSeconds("30", now)).toBe(30);
    expect(retryAfterSeconds("Wed, 01 Jan 2031 00:02:00 GMT", now)).toBe(120);
    expect(retryAfterSeconds(null, now)).toBe(60);
    expect(classifyStatus(408, null, now).kind).toBe("transient");
    expect(classifyStatus(404, null, now).kind).toBe("permanent");
    expect(classifyStatus(302, null, now).kind).toBe("permanent");
  });
});
