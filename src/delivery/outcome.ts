/** What one attempt to hand a message to one target came to. */
export type Attempt =
  | { kind: "ok" }
  /** Worth trying again later: 5xx, 408, a timeout, a network error. Uses up one of the row's attempts. */
  | { kind: "transient"; error: string }
  /** Will not get better by itself: other 4xx, a redirect, a bad address. The row goes dead. */
  | { kind: "permanent"; error: string }
  /** The receiver asks us to slow down (429, an exhausted sending quota): not a failure, no attempt used. */
  | { kind: "backpressure"; error: string; delaySeconds: number };

/** Queues accept delays up to 24 hours. */
export const MAX_DELAY_SECONDS = 86_400;
const DEFAULT_BACKPRESSURE_SECONDS = 60;

/** `Retry-After` as delta-seconds or an HTTP date, within 1 s .. 24 h; 60 s when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: Date): number {
  if (header === null || header.trim() === "") return DEFAULT_BACKPRESSURE_SECONDS;
  const value = header.trim();
  let seconds: number;
  if (/^\d+$/.test(value)) seconds = Number(value);
  else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return DEFAULT_BACKPRESSURE_SECONDS;
    seconds = Math.ceil((at - now.getTime()) / 1000);
  }
  return Math.min(MAX_DELAY_SECONDS, Math.max(1, seconds));
}

/** Exponential backoff after the n-th failed attempt (n >= 1): base, 2 base, 4 base ... capped at one hour. */
export function backoffSeconds(attempts: number, baseSeconds: number): number {
  return Math.min(3600, baseSeconds * 2 ** Math.max(0, attempts - 1));
}

/** How an HTTP answer counts (after redirects were refused). */
export function classifyStatus(status: number, retryAfter: string | null, now: Date): Attempt {
  if (status >= 200 && status < 300) return { kind: "ok" };
  const error = `the receiver answered HTTP ${status}`;
  if (status === 429) return { kind: "backpressure", error, delaySeconds: retryAfterSeconds(retryAfter, now) };
  if (status === 408 || status >= 500) return { kind: "transient", error };
  if (status >= 300 && status < 400) return { kind: "permanent", error: `${error} (a redirect; set NOTIFY_WEBHOOK_URL to the final URL)` };
  return { kind: "permanent", error };
}
