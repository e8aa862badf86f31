import { describe, expect, it } from "vitest";
import { sendEmail } from "../src/delivery/email";
import { render } from "../src/delivery/templates";

describe("message templates", () => {
  it("a reminder says which certification, when it expires, and which window", () => {
    for (const window_days of [30, 7, 1]) {
      const m = render("cert_expiry_reminder", {
        mentor_id: "m-1",
        email: "m-1@example.org",
        certification_id: "cert-9",
        certification_name: "First Aid",
        expires_at: "2031-02-01T00:00:00.000Z",
        window_days,
      });
      expect(m.subject).toContain("First Aid");
      expect(m.text).toContain("2031-02-01");
      expect(m.text).toContain(`${window_days}-day reminder`);
      expect(m.html).toContain("First Aid");
    }
  });

  it("mentor_paused names the expired certification; pause_lifted says the pause is over", () => {
    const paused = render("mentor_paused", {
      mentor_id: "m-2", name: "Ada", email: "ada@example.org", certification_id: "c-2", certification_name: "Safeguarding",
      expired_at: "2031-01-01T00:00:00.000Z", paused_at: "2031-01-02T02:00:00.000Z",
    });
    expect(paused.subject).toContain("Safeguarding");
    expect(paused.text).toContain("expired on 2031-01-01");
    const lifted = render("pause_lifted", {
      mentor_id: "m-2", name: "Ada", email: "ada@example.org", pause_id: 4, reason: "vacation",
      paused_at: "2031-01-02T02:00:00.000Z", lifted_at: "2031-01-09T06:00:00.000Z",
    });
    expect(lifted.text).toContain("lifted on 2031-01-09");
  });

  it("escapes payload text in HTML", () => {
    const m = render("cert_expiry_reminder", { certification_name: "<script>x</script>", window_days: 7, expires_at: "2031-02-01T00:00:00.000Z" });
    expect(m.html).not.toContain("<script>");
    expect(m.html).toContain("&lt;script&gt;");
  });

  it("the weekly report gives its figures and links to its page", () => {
    const m = render("weekly_expiry_report", {
      run_id: "run-0003", job_name: "weekly", generated_at: "2031-01-06T08:00:00.000Z", expiring_7_days: 2, expiring_30_days: 5, paused_mentors: 1,
      link: "https://scheduler.example.org/reports/7",
    });
    expect(m.text).toContain("Expiring within 7 days: 2. Expiring within 30 days: 5. Mentors paused: 1.");
    expect(m.html).toContain('href="https://scheduler.example.org/reports/7"');
  });
});

describe("how the email binding's answers count", () => {
  // The binding's own behaviour is the platform's; these stand in for its refusals only.
  const failing = (message: string) => ({ send: async () => Promise.reject(new Error(message)) }) as unknown as SendEmail;
  const rendered = { subject: "s", text: "t", html: "<p>t</p>" };

  it("an exhausted quota is backpressure, not a failure", async () => {
    expect(await sendEmail(failing("daily sending quota exceeded"), "a@example.org", "b@example.org", rendered)).toMatchObject({ kind: "backpressure", delaySeconds: 3600 });
  });
  it("a refused address is permanent; anything else is retried", async () => {
    expect((await sendEmail(failing("destination address is not verified"), "a@example.org", "b@example.org", rendered)).kind).toBe("permanent");
    expect((await sendEmail(failing("internal error"), "a@example.org", "b@example.org", rendered)).kind).toBe("transient");
  });
});
