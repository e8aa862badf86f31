import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import type { Env } from "../../src/env";
import { handleNotificationBatch } from "../../src/delivery/consumer";
import { DB } from "./platform-fixtures";

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  answered: number | "hung";
}

/** The env with the webhook going to its own path on the receiver, so tests do not see each other's requests. */
export function envFor(path: string, overrides: Partial<Env> = {}): Env {
  return { ...env, NOTIFY_WEBHOOK_URL: `https://receiver.test${path}`, ...overrides } as Env;
}

/** Plans the receiver's next answers on `path`. */
export async function plan(path: string, answer: { webhook_id?: string; status?: number; times?: number; retry_after?: string | number; hang_ms?: number }) {
  await env.RECEIVER.fetch("https://receiver.test/__control/plan", { method: "POST", body: JSON.stringify({ path, ...answer }) });
}

export async function received(path: string): Promise<Received[]> {
  const response = await env.RECEIVER.fetch(`https://receiver.test/__control/received?path=${encodeURIComponent(path)}`);
  return response.json();
}

let seq = 0;
/** An outbox row as a handler writes it (pending, never queued). Returns its id. */
export async function addNotification(fields: { kind?: string; mentorId?: string | null; payload?: Record<string, unknown>; runId?: string; jobName?: string | null; createdAt?: string } = {}): Promise<number> {
  seq += 1;
  const mentorId = fields.mentorId === undefined ? `m-${seq}` : fields.mentorId;
  const row = await DB.prepare(
    `INSERT INTO notification_outbox (dedupe_key, mentor_id, kind, payload, created_at, created_by_run, job_name)
     VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING notification_id`,
  )
    .bind(
      `test:${Date.now()}:${seq}:${Math.random()}`,
      mentorId,
      fields.kind ?? "cert_expiry_reminder",
      JSON.stringify(fields.payload ?? { mentor_id: mentorId, email: `${mentorId}@example.org`, certification_id: `c-${seq}`, certification_name: "First aid", expires_at: "2031-02-01T00:00:00.000Z", window_days: 7 }),
      fields.createdAt ?? new Date().toISOString(),
      fields.runId ?? "run-0001",
      fields.jobName === undefined ? "test-job" : fields.jobName,
    )
    .first<{ notification_id: number }>();
  return row!.notification_id;
}

export async function outboxRow(id: number) {
  return DB.prepare("SELECT * FROM notification_outbox WHERE notification_id = ?").bind(id).first<Record<string, any>>();
}

let messageSeq = 0;
/** Runs the consumer on one batch naming these rows, as the queue would deliver it; returns what it did with each message. */
export async function consume(ids: number[], testEnv: Env) {
  const messages = ids.map((id) => ({ id: `msg-${++messageSeq}`, timestamp: new Date(), attempts: 1, body: { id } }));
  const batch = createMessageBatch("nightly-notifications", messages);
  const ctx = createExecutionContext();
  await handleNotificationBatch(batch, testEnv);
  const result = await getQueueResult(batch, ctx);
  return { result, messageIds: messages.map((m) => m.id) };
}
