// The texts people receive, one function per message type: a subject, a plain
// text body and an HTML body built from the same lines. Payload fields are
// data from the platform's tables, so every one is escaped in the HTML.

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

type Payload = Record<string, unknown>;

const escapeHtml = (value: unknown) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const day = (value: unknown) => (typeof value === "string" ? value.slice(0, 10) : "an unknown date");

function message(subject: string, paragraphs: string[], link?: { href: string; label: string }): RenderedMessage {
  const text = [...paragraphs, ...(link ? [`${link.label}: ${link.href}`] : [])].join("\n\n") + "\n";
  const html =
    `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">` +
    paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join("") +
    (link ? `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>` : "") +
    `</body></html>`;
  return { subject, text, html };
}

function reminder(p: Payload): RenderedMessage {
  const days = Number(p.window_days);
  const within = days === 1 ? "within a day" : `within ${days} days`;
  return message(`Your certification "${p.certification_name}" expires ${within}`, [
    `Hello,`,
    `your certification "${p.certification_name}" (${p.certification_id}) expires on ${day(p.expires_at)} (${p.expires_at}), ${within}. This is the ${days}-day reminder.`,
    `Please renew it before then: when it expires, your mentoring is paused until it is renewed.`,
  ]);
}

function paused(p: Payload): RenderedMessage {
  return message(`Your mentoring is paused: "${p.certification_name}" expired`, [
    `Hello ${p.name ?? ""},`.replace(" ,", ","),
    `your certification "${p.certification_name}" (${p.certification_id}) expired on ${day(p.expired_at)}, so your mentoring was paused automatically on ${day(p.paused_at)}.`,
    `Renew the certification and the pause is lifted.`,
  ]);
}

function lifted(p: Payload): RenderedMessage {
  return message(`Your mentoring pause has been lifted`, [
    `Hello ${p.name ?? ""},`.replace(" ,", ","),
    `the pause on your mentoring (reason: ${p.reason}, since ${day(p.paused_at)}) was lifted on ${day(p.lifted_at)}. You can take mentees again.`,
  ]);
}

function weeklyReport(p: Payload): RenderedMessage {
  const link = typeof p.link === "string" && p.link !== "" ? { href: p.link, label: "The full report" } : undefined;
  return message(
    `Weekly certification report: ${p.expiring_7_days} expiring within 7 days`,
    [
      `Certification expiry report of ${day(p.generated_at)} (run ${p.run_id}${p.job_name ? ` of ${p.job_name}` : ""}):`,
      `Expiring within 7 days: ${p.expiring_7_days}. Expiring within 30 days: ${p.expiring_30_days}. Mentors paused: ${p.paused_mentors}.` +
        (Number(p.unreadable_certifications) > 0 ? ` Certifications with an unreadable expiry date: ${p.unreadable_certifications}.` : ""),
    ],
    link,
  );
}

function alert(p: Payload): RenderedMessage {
  return message(`Scheduler alert: ${p.title ?? "attention needed"}`, [String(p.message ?? JSON.stringify(p))]);
}

function jobAlertOpened(p: Payload): RenderedMessage {
  return message(`Alert: ${p.job_name} ${String(p.kind).replace(/_/g, " ")}`, [
    String(p.message),
    `Opened at ${p.opened_at} (${p.alert_id}${p.run_id ? `, run ${p.run_id}` : ""}). You will hear again when the job next succeeds on time.`,
  ]);
}

function jobAlertResolved(p: Payload): RenderedMessage {
  return message(`Resolved: ${p.job_name} ${String(p.kind).replace(/_/g, " ")}`, [
    `${p.job_name} succeeded on time again at ${p.resolved_at}; this alert is resolved:`,
    String(p.message),
    `Opened at ${p.opened_at} (${p.alert_id}).`,
  ]);
}

const TEMPLATES: Record<string, (p: Payload) => RenderedMessage> = {
  cert_expiry_reminder: reminder,
  mentor_paused: paused,
  pause_lifted: lifted,
  weekly_expiry_report: weeklyReport,
  alert,
  "job.alert.opened": jobAlertOpened,
  "job.alert.resolved": jobAlertResolved,
};

/** The email for a message of this type, or a plain rendering of its data for a type without a template. */
export function render(kind: string, payload: Payload): RenderedMessage {
  const template = TEMPLATES[kind];
  if (template) return template(payload);
  return message(`Notification: ${kind}`, [JSON.stringify(payload, null, 2)]);
}
