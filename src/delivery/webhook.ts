import type { Attempt } from "./outcome";
import { classifyStatus } from "./outcome";

/** The Standard Webhooks event body. */
export interface WebhookEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

function base64(bytes: ArrayBuffer): string {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary);
}

const keyCache = new WeakMap<Uint8Array, Promise<CryptoKey>>();
function hmacKey(secret: Uint8Array): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keyCache.set(secret, key);
  }
  return key;
}

/**
 * The `webhook-signature` header: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`
 * for each secret, space-separated, so a receiver holding either the old or the
 * new secret verifies during a rotation.
 */
export async function signWebhook(secrets: readonly Uint8Array[], id: string, timestamp: number, body: string): Promise<string> {
  const content = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  const signatures = await Promise.all(
    secrets.map(async (secret) => `v1,${base64(await crypto.subtle.sign("HMAC", await hmacKey(secret), content))}`),
  );
  return signatures.join(" ");
}

/** POSTs one signed event. Never throws: every outcome is an {@link Attempt}. */
export async function sendWebhook(
  config: { url: string; secrets: readonly Uint8Array[]; timeoutMs: number },
  id: string,
  event: WebhookEvent,
  now: Date,
): Promise<Attempt> {
  const body = JSON.stringify(event);
  const timestamp = Math.floor(now.getTime() / 1000);
  try {
    const response = await fetch(config.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "nightly-scheduler-webhooks/1",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await signWebhook(config.secrets, id, timestamp, body),
      },
      body,
      // A redirect could lead anywhere; the configured URL is the only destination.
      redirect: "manual",
      signal: AbortSignal.timeout(config.timeoutMs),
    });
    // The answer's body is not needed; cancel it so the connection is released.
    await response.body?.cancel().catch(() => {});
    return classifyStatus(response.status, response.headers.get("retry-after"), now);
  } catch (error) {
    const name = (error as Error)?.name;
    if (name === "TimeoutError" || name === "AbortError") {
      return { kind: "transient", error: `the receiver did not answer within ${config.timeoutMs / 1000} s` };
    }
    return { kind: "transient", error: `could not reach the receiver: ${error instanceof Error ? error.message : String(error)}` };
  }
}
