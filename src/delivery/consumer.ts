import { createDb, type Db } from "../db/client";
import type { NotificationRow } from "../db/platform-schema";
import type { Env, NotificationMessage } from "../env";
import { clock } from "../lib/clock";
import { isoMs } from "../lib/instants";
import { logEvent } from "../lib/log";
import { claimRows, finishRows, markDeadLettered, noteNotSent, type RowResult } from "../repositories/outbox-repo";
import { deliveryConfig } from "./config";
import { deliverRow, messageId } from "./deliver";
import { backoffSeconds, MAX_DELAY_SECONDS } from "./outcome";

/** Queue names (wrangler.toml). */
export const NOTIFICATIONS_QUEUE = "nightly-notifications";
export const DEAD_LETTER_QUEUE = "nightly-notifications-dlq";

/** A claim outlives the slowest batch: 100 messages, at least 4 in flight (config), 10 s timeout each = 250 s. */
export const LEASE_MS = 5 * 60_000;
/** A queue delay and a row's due time come from different clocks; this much early is still due. */
const DUE_TOLERANCE_MS = 5_000;

function idOf(message: Message<unknown>): number | null {
  const body = message.body as Partial<NotificationMessage> | null;
  return typeof body?.id === "number" && Number.isSafeInteger(body.id) && body.id > 0 ? body.id : null;
}

/** Runs `fn` on every item, at most `limit` at a time. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * The Worker's queue() for notification messages. Each message names one
 * outbox row. A row is claimed (status `sending`, with a lease) before any
 * request goes out; a message whose row cannot be claimed (sent, dead, held
 * by another attempt, not due yet) is acknowledged and changes nothing.
 */
export async function handleNotificationBatch(batch: MessageBatch<unknown>, env: Env, db: Db = createDb(env.DB)): Promise<void> {
  const now = clock.now();
  const byId = new Map<number, Message<unknown>[]>();
  for (const message of batch.messages) {
    const id = idOf(message);
    if (id === null) {
      logEvent("delivery.bad_message", { message_id: message.id, body: message.body }, "warn");
      message.ack();
      continue;
    }
    byId.set(id, [...(byId.get(id) ?? []), message]);
  }
  const ids = [...byId.keys()];
  const config = deliveryConfig(env);
  if (config.problems.length > 0) {
    // Nothing goes anywhere while the settings are wrong; the sweep queues the rows again later.
    await noteNotSent(db, ids, `not sent: delivery is misconfigured: ${config.problems.join("; ")}`, isoMs(now));
    logEvent("delivery.misconfigured", { problems: config.problems, rows: ids.length }, "error");
    for (const list of byId.values()) for (const m of list) m.ack();
    return;
  }

  const token = crypto.randomUUID();
  const t0 = performance.now();
  const claimed = await claimRows(db, ids, isoMs(now), isoMs(now.getTime() + DUE_TOLERANCE_MS), isoMs(now.getTime() + LEASE_MS), token);
  const claimedIds = new Set(claimed.map((r) => r.notificationId));
  for (const [id, list] of byId) if (!claimedIds.has(id)) for (const m of list) m.ack();

  const t1 = performance.now();
  const results: RowResult[] = [];
  const after: (() => Promise<void> | void)[] = [];
  let slowDownUntil = 0;

  await pool(claimed, config.maxInFlight, async (row: NotificationRow) => {
    const messages = byId.get(row.notificationId)!;
    const at = clock.now();
    // Once a receiver asked to slow down, the rest of the batch waits with it, unsent.
    const outcome =
      slowDownUntil > at.getTime()
        ? { attempt: { kind: "backpressure" as const, error: "deferred: the receiver asked to slow down", delaySeconds: Math.ceil((slowDownUntil - at.getTime()) / 1000) }, deliveredTo: row.deliveredTo ?? [] }
        : await deliverRow(env, config, row, at);
    const base = { id: row.notificationId, deliveredTo: outcome.deliveredTo };
    const attempt = outcome.attempt;
    switch (attempt.kind) {
      case "ok":
        results.push({ ...base, status: "sent", attempts: row.attempts + 1, lastError: null, nextAttemptAt: null, sentAt: isoMs(at) });
        after.push(() => messages.forEach((m) => m.ack()));
        break;
      case "backpressure": {
        const delaySeconds = Math.min(MAX_DELAY_SECONDS, attempt.delaySeconds);
        slowDownUntil = Math.max(slowDownUntil, at.getTime() + delaySeconds * 1000);
        // Not a failure: the row keeps its attempts, and a fresh message (not a retry of
        // this one) carries it, so the queue's own retry count is not used up either.
        results.push({ ...base, status: "pending", attempts: row.attempts, lastError: attempt.error, nextAttemptAt: isoMs(at.getTime() + delaySeconds * 1000), sentAt: null });
        after.push(async () => {
          await env.NOTIFICATIONS.send({ id: row.notificationId }, { delaySeconds });
          messages.forEach((m) => m.ack());
        });
        break;
      }
      case "transient": {
        const attempts = row.attempts + 1;
        if (attempts >= config.maxAttempts) {
          results.push({ ...base, status: "dead", attempts, lastError: `${attempt.error} (gave up after ${attempts} attempts)`, nextAttemptAt: null, sentAt: null });
          after.push(() => messages.forEach((m) => m.ack()));
        } else {
          const delaySeconds = backoffSeconds(attempts, config.retryBaseSeconds);
          results.push({ ...base, status: "failed", attempts, lastError: attempt.error, nextAttemptAt: isoMs(at.getTime() + delaySeconds * 1000), sentAt: null });
          // One message carries the retry; duplicates of it are dropped.
          after.push(() => {
            messages[0]!.retry({ delaySeconds });
            messages.slice(1).forEach((m) => m.ack());
          });
        }
        break;
      }
      case "permanent":
        results.push({ ...base, status: "dead", attempts: row.attempts + 1, lastError: attempt.error, nextAttemptAt: null, sentAt: null });
        after.push(() => messages.forEach((m) => m.ack()));
        break;
    }
  });

  // If this write fails the batch throws and is redelivered; the rows stay claimed until
  // their lease expires, then the sweep sends them again (a receiver dedupes on webhook-id).
  const t2 = performance.now();
  await finishRows(db, token, results);
  const t3 = performance.now();
  for (const step of after) await step();
  const tally = results.reduce<Record<string, number>>((acc, r) => ((acc[r.status] = (acc[r.status] ?? 0) + 1), acc), {});
  logEvent("delivery.batch", {
    messages: batch.messages.length,
    claimed: claimed.length,
    ...tally,
    claim_ms: Math.round(t1 - t0),
    send_ms: Math.round(t2 - t1),
    record_ms: Math.round(t3 - t2),
  });
  for (const r of results) {
    if (r.status === "dead" || r.status === "failed") {
      logEvent("delivery.failed", { notification_id: messageId(r.id), status: r.status, attempts: r.attempts, error: r.lastError }, "warn");
    }
  }
}

/** The dead-letter queue: the queue gave up on these messages (our consumer kept throwing), so their rows are dead. */
export async function handleDeadLetters(batch: MessageBatch<unknown>, env: Env, db: Db = createDb(env.DB)): Promise<void> {
  const ids = batch.messages.map(idOf).filter((id): id is number => id !== null);
  await markDeadLettered(db, [...new Set(ids)], isoMs(clock.now()));
  logEvent("delivery.dead_lettered", { rows: ids.map(messageId) }, "error");
  batch.ackAll();
}

/** The Worker's queue() entry point: dispatches on the queue a batch came from. */
export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue === DEAD_LETTER_QUEUE) return handleDeadLetters(batch, env);
  return handleNotificationBatch(batch, env);
}
