import type { NotificationRow } from "../db/platform-schema";
import type { Env } from "../env";
import { isAlertKind, isMentorKind, REPORT_NOTIFICATION_KIND, type DeliveryConfig } from "./config";
import { sendEmail } from "./email";
import type { Attempt } from "./outcome";
import { render } from "./templates";
import { sendWebhook } from "./webhook";

/** The stable id a receiver sees for a row (webhook-id); the same on every attempt. */
export const messageId = (notificationId: number) => `ntf_${notificationId}`;

/**
 * Where a row goes: "webhook" and/or "email:<address>". Mentor notices by
 * NOTIFY_CHANNEL, reports and alerts by email to their recipients, and every
 * message to the webhook whenever one is configured.
 */
export function targetsOf(row: NotificationRow, config: DeliveryConfig): { targets: string[]; problem: string | null } {
  const targets = new Set<string>();
  let problem: string | null = null;
  if (isMentorKind(row.kind)) {
    if (config.channel === "email") {
      const address = row.payload.email;
      if (typeof address === "string" && address.includes("@")) targets.add(`email:${address}`);
      else problem = "the notice has no mentor email address in its payload";
    }
  } else if (config.email) {
    const recipients = row.kind === REPORT_NOTIFICATION_KIND ? config.reportRecipients : isAlertKind(row.kind) ? config.alertRecipients : [];
    for (const address of recipients) targets.add(`email:${address}`);
  }
  if (config.webhook) targets.add("webhook");
  if (targets.size === 0 && problem === null) {
    problem =
      row.kind === REPORT_NOTIFICATION_KIND
        ? "nowhere to send it: REPORT_RECIPIENTS (with EMAIL and NOTIFY_FROM) and NOTIFY_WEBHOOK_URL are unset"
        : isAlertKind(row.kind)
          ? "nowhere to send it: ALERT_RECIPIENTS (with EMAIL and NOTIFY_FROM) and NOTIFY_WEBHOOK_URL are unset"
          : "nowhere to send it: no channel is configured";
  }
  return { targets: [...targets], problem };
}

/** A report notification links to the report's page (PUBLIC_BASE_URL, else a path on this service). */
function withLink(row: NotificationRow, config: DeliveryConfig): Record<string, unknown> {
  if (row.kind !== REPORT_NOTIFICATION_KIND || row.payload.report_id == null) return row.payload;
  return { ...row.payload, link: `${config.publicBaseUrl}/reports/${row.payload.report_id}` };
}

export interface RowOutcome {
  attempt: Attempt;
  deliveredTo: string[];
}

const RANK: Record<Attempt["kind"], number> = { ok: 0, permanent: 1, transient: 2, backpressure: 3 };

/**
 * Hands one claimed row to each target it has not reached yet (delivered_to),
 * so a retry never repeats a target that already accepted it. The row's
 * outcome is the most hopeful failure: backpressure, then transient, then permanent.
 */
export async function deliverRow(env: Env, config: DeliveryConfig, row: NotificationRow, now: Date): Promise<RowOutcome> {
  const done = new Set(row.deliveredTo ?? []);
  const { targets, problem } = targetsOf(row, config);
  if (problem !== null) return { attempt: { kind: "permanent", error: problem }, deliveredTo: [...done] };

  let worst: Attempt = { kind: "ok" };
  const payload = withLink(row, config);
  const data = { notification_id: messageId(row.notificationId), ...payload };
  for (const target of targets) {
    if (done.has(target)) continue;
    let attempt: Attempt;
    if (target === "webhook") {
      attempt = await sendWebhook(config.webhook!, messageId(row.notificationId), { type: row.kind, timestamp: row.createdAt, data }, now);
    } else {
      attempt = await sendEmail(env.EMAIL!, config.email!.from, target.slice("email:".length), render(row.kind, payload));
    }
    if (attempt.kind === "ok") done.add(target);
    else if (RANK[attempt.kind] > RANK[worst.kind]) worst = attempt;
    // Asked to slow down: the other targets wait with it rather than add to the load.
    if (attempt.kind === "backpressure") break;
  }
  return { attempt: worst, deliveredTo: [...done] };
}
