import type { Env } from "../env";

/** Mentor notices; everything else goes to coordinators. */
export const MENTOR_KINDS = ["cert_expiry_reminder", "mentor_paused", "pause_lifted"] as const;
export const REPORT_NOTIFICATION_KIND = "weekly_expiry_report";
export const ALERT_KIND = "alert";
/** Alerts about a job (issue 13): their outbox kind is the webhook event type. */
export const JOB_ALERT_KINDS = ["job.alert.opened", "job.alert.resolved"] as const;

export type Channel = "webhook" | "email";

export interface DeliveryConfig {
  /** How mentor notices go out (NOTIFY_CHANNEL, default "email"). */
  channel: Channel;
  /** Set whenever NOTIFY_WEBHOOK_URL is: every message also goes there. */
  webhook: { url: string; secrets: Uint8Array[]; timeoutMs: number } | null;
  /** Set when the EMAIL binding exists and NOTIFY_FROM is a sender address. */
  email: { from: string } | null;
  reportRecipients: string[];
  alertRecipients: string[];
  /** Link base for report pages in messages ("" = relative links). */
  publicBaseUrl: string;
  retentionDays: number;
  retryBaseSeconds: number;
  maxAttempts: number;
  /**
   * Requests in flight to receivers per consumer batch (NOTIFY_MAX_IN_FLIGHT, default 50).
   * With the consumer's max_concurrency = 1 (wrangler.toml) it is the cap on what the
   * first night's backlog puts on a receiver at once.
   */
  maxInFlight: number;
  /** Exactly what is wrong. While any is listed, nothing is sent (see the consumer). */
  problems: string[];
}

export const WEBHOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_RETENTION_DAYS = 90;
export const DEFAULT_RETRY_BASE_SECONDS = 30;
export const DEFAULT_MAX_ATTEMPTS = 6;
export const DEFAULT_MAX_IN_FLIGHT = 50;

const ADDRESS = /^[^\s@<>",]+@[^\s@<>",]+\.[^\s@<>",]+$/;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

function wholeNumber(value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value.trim() === "") return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
}

/** `whsec_<base64>` to its key bytes, or null when it is not that form. */
export function decodeWebhookSecret(secret: string): Uint8Array | null {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!match) return null;
  try {
    const bytes = Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0));
    // Standard Webhooks secrets are 24 to 64 random bytes; fewer than 16 is not a secret.
    return bytes.length >= 16 && bytes.length <= 64 ? bytes : null;
  } catch {
    return null;
  }
}

/**
 * Reads the delivery settings from the environment and names every problem.
 * A misconfiguration never falls back to another destination: the consumer
 * sends nothing while `problems` is not empty, so nothing reaches a wrong place.
 */
export function deliveryConfig(env: Env): DeliveryConfig {
  const problems: string[] = [];
  const rawChannel = (env.NOTIFY_CHANNEL ?? "email").trim() || "email";
  let channel: Channel = "email";
  if (rawChannel === "webhook" || rawChannel === "email") channel = rawChannel;
  else problems.push(`NOTIFY_CHANNEL is "${rawChannel}"; it must be "webhook" or "email"`);

  let webhook: DeliveryConfig["webhook"] = null;
  const url = env.NOTIFY_WEBHOOK_URL?.trim();
  if (url) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      problems.push(`NOTIFY_WEBHOOK_URL is not a URL: "${url}"`);
    }
    if (parsed) {
      const local = LOOPBACK.has(parsed.hostname) || parsed.hostname.startsWith("127.");
      if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && local)) {
        problems.push(`NOTIFY_WEBHOOK_URL must be https (plain http only to localhost in local development): "${url}"`);
      }
    }
    const raw = (env.NOTIFY_WEBHOOK_SECRET ?? "").trim();
    const parts = raw === "" ? [] : raw.split(/\s+/);
    const secrets = parts.map(decodeWebhookSecret);
    if (parts.length === 0) problems.push("NOTIFY_WEBHOOK_SECRET is not set: webhooks must be signed (whsec_<base64>)");
    secrets.forEach((key, i) => {
      if (key === null) problems.push(`NOTIFY_WEBHOOK_SECRET: secret ${i + 1} of ${parts.length} is not whsec_<base64 of 16-64 bytes>`);
    });
    webhook = {
      url,
      secrets: secrets.filter((s): s is Uint8Array => s !== null),
      timeoutMs: wholeNumber(env.NOTIFY_WEBHOOK_TIMEOUT_MS, WEBHOOK_TIMEOUT_MS, 1, WEBHOOK_TIMEOUT_MS),
    };
  } else if (channel === "webhook") {
    problems.push('NOTIFY_CHANNEL is "webhook" but NOTIFY_WEBHOOK_URL is not set');
  }

  let email: DeliveryConfig["email"] = null;
  const from = env.NOTIFY_FROM?.trim();
  if (from && !ADDRESS.test(from)) problems.push(`NOTIFY_FROM is not an email address: "${from}"`);
  if (channel === "email") {
    if (!env.EMAIL) problems.push('NOTIFY_CHANNEL is "email" but the EMAIL (send_email) binding is not configured');
    if (!from) problems.push('NOTIFY_CHANNEL is "email" but NOTIFY_FROM (the sender address) is not set');
  }
  if (env.EMAIL && from && ADDRESS.test(from)) email = { from };

  const reportRecipients = list(env.REPORT_RECIPIENTS);
  const alertRecipients = list(env.ALERT_RECIPIENTS);
  for (const [name, addresses] of [["REPORT_RECIPIENTS", reportRecipients], ["ALERT_RECIPIENTS", alertRecipients]] as const) {
    const bad = addresses.filter((a) => !ADDRESS.test(a));
    if (bad.length > 0) problems.push(`${name} has entries that are not email addresses: ${bad.map((b) => `"${b}"`).join(", ")}`);
    if (addresses.length > 0 && !email && !problems.some((p) => p.startsWith("NOTIFY_FROM"))) {
      problems.push(`${name} is set but email cannot be sent (${!env.EMAIL ? "no EMAIL binding" : "NOTIFY_FROM is not set"})`);
    }
  }

  return {
    channel,
    webhook,
    email,
    reportRecipients,
    alertRecipients,
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? "").trim().replace(/\/+$/, ""),
    retentionDays: wholeNumber(env.NOTIFICATION_RETENTION_DAYS, DEFAULT_RETENTION_DAYS, 1, 3650),
    retryBaseSeconds: wholeNumber(env.NOTIFY_RETRY_BASE_SECONDS, DEFAULT_RETRY_BASE_SECONDS, 1, 3600),
    maxAttempts: wholeNumber(env.NOTIFY_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, 1, 20),
    // At least 4: a batch of 100 at 10 s each must finish inside its 5-minute lease.
    maxInFlight: wholeNumber(env.NOTIFY_MAX_IN_FLIGHT, DEFAULT_MAX_IN_FLIGHT, 4, 100),
    problems,
  };
}

/** Routed to ALERT_RECIPIENTS (and the webhook). */
export function isAlertKind(kind: string): boolean {
  return kind === ALERT_KIND || (JOB_ALERT_KINDS as readonly string[]).includes(kind);
}

export function isMentorKind(kind: string): boolean {
  return (MENTOR_KINDS as readonly string[]).includes(kind);
}
