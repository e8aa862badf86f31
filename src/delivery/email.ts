import type { Attempt } from "./outcome";
import type { RenderedMessage } from "./templates";

// How the send_email binding's errors count. Its quota and rate errors are
// backpressure (try later, no attempt used); an address or sender the service
// refuses will not get better by itself.
const QUOTA = /quota|rate.?limit|too many|daily (sending )?limit|limit (exceeded|reached)/i;
const REFUSED = /invalid|not allowed|not verified|unverified|forbidden|unauthori[sz]ed|not permitted|destination address/i;
/** An exhausted daily quota is not back for a while; one hour between tries. */
const QUOTA_RETRY_SECONDS = 3600;

/** Sends one message through the EMAIL binding. Never throws: every outcome is an {@link Attempt}. */
export async function sendEmail(binding: SendEmail, from: string, to: string, rendered: RenderedMessage): Promise<Attempt> {
  try {
    await binding.send({ from, to, subject: rendered.subject, text: rendered.text, html: rendered.html });
    return { kind: "ok" };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (QUOTA.test(text)) return { kind: "backpressure", error: `email: ${text}`, delaySeconds: QUOTA_RETRY_SECONDS };
    if (REFUSED.test(text)) return { kind: "permanent", error: `email to ${to}: ${text}` };
    return { kind: "transient", error: `email to ${to}: ${text}` };
  }
}
