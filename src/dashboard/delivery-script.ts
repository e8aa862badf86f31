/**
 * The Deliveries and Reports pages' script. Notifications and reports carry
 * personal data, so the API serves them only with the bearer token; the page
 * asks for it (kept as token-script.ts says, as on the job page) and
 * renders what the API returns. Everything goes through textContent, never HTML.
 */
export const DELIVERY_SCRIPT = `
(() => {
  const API = "/api/v1/scheduler";
  const root = document.querySelector("[data-view]");
  if (!root) return;
  const { say, tokenForm, tokenInput } = dashboard;
  const el = (tag, props, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child == null ? "—" : String(child)));
    return node;
  };
  const table = (headers, rows) => el("table", {}, el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h)))), el("tbody", {}, ...rows));
  const td = (label, ...children) => { const cell = el("td", {}, ...children); cell.dataset.label = label; return cell; };

  async function api(path, init) {
    const token = dashboard.token();
    if (!token) throw Object.assign(new Error("Enter the API token (SCHEDULER_API_TOKEN) to see this page."), { needsToken: true });
    const response = await fetch(API + path, { ...init, headers: { authorization: "Bearer " + token, "content-type": "application/json" } });
    const body = await response.json().catch(() => null);
    if (response.status === 401) { dashboard.forgetToken(); throw Object.assign(new Error("The token was refused; enter it again."), { needsToken: true }); }
    if (!response.ok) throw new Error((body && body.error ? body.error.message : response.statusText) + " (HTTP " + response.status + ")");
    return body;
  }

  function notificationRows(list, withRetry) {
    return list.map((n) => {
      const row = el("tr");
      row.dataset.notificationId = n.notification_id;
      row.dataset.status = n.status;
      const cells = [
        td("Id", el("code", {}, n.message_id)),
        td("Type", n.type),
        td("Status", el("span", { className: "badge " + (n.status === "sent" ? "success" : n.status === "dead" || n.status === "failed" ? "failed" : "running") }, n.status)),
        td("Attempts", n.attempts),
        td("Run", n.job_name ? n.job_name + " " + (n.run_id || "") : n.run_id),
        td("Created", n.created_at),
        td("Reason", n.last_error || (n.status === "sent" ? "delivered to " + n.delivered_to.join(", ") : "")),
      ];
      if (withRetry) {
        const cell = td("Retry");
        if (n.status === "dead" || n.status === "failed") {
          const button = el("button", { type: "button" }, "Retry");
          button.dataset.retry = n.notification_id;
          button.addEventListener("click", async () => {
            button.disabled = true;
            try {
              await api("/notifications/" + n.notification_id + "/retry", { method: "POST" });
              say("Notification " + n.message_id + " queued again.");
              await load();
            } catch (error) { say("Retry failed: " + error.message, true); button.disabled = false; }
          });
          cell.append(button);
        }
        cells.push(cell);
      }
      row.append(...cells);
      return row;
    });
  }

  async function loadDeliveries() {
    const target = document.getElementById("failures");
    const params = new URLSearchParams(location.search);
    const filter = new URLSearchParams();
    for (const key of ["job_name", "run_id", "status", "type"]) if (params.get(key)) filter.set(key, params.get(key));
    let list;
    if ([...filter.keys()].length > 0) {
      filter.set("limit", "100");
      list = (await api("/notifications?" + filter)).data;
    } else {
      const [dead, failed] = await Promise.all([api("/notifications?status=dead&limit=50"), api("/notifications?status=failed&limit=50")]);
      list = [...dead.data, ...failed.data].sort((a, b) => b.notification_id - a.notification_id);
    }
    const headers = ["Id", "Type", "Status", "Attempts", "Run", "Created", "Reason", "Retry"];
    target.replaceChildren(list.length ? table(headers, notificationRows(list, true)) : el("p", { className: "card muted" }, "Nothing here: no notification has failed."));
  }

  async function loadReports() {
    const target = document.getElementById("reports");
    const list = (await api("/reports?limit=50")).data;
    const rows = list.map((r) => {
      const link = el("a", { href: "/reports/" + r.report_id }, "Report " + r.report_id);
      const row = el("tr", {}, td("Report", link), td("Kind", r.kind), td("Run", r.run_id), td("Generated", r.generated_at),
        td("Figures", Object.entries(r.figures).map(([k, v]) => k + " " + v).join(" · ")));
      row.dataset.reportId = r.report_id;
      return row;
    });
    target.replaceChildren(rows.length ? table(["Report", "Kind", "Run", "Generated", "Figures"], rows) : el("p", { className: "card muted" }, "No report has been stored yet."));
  }

  const SECTIONS = [
    ["expiring_7_days", "Expiring within 7 days", ["name", "mentor_id", "certification_name", "certification_id", "expires_at"]],
    ["expiring_30_days", "Expiring within 30 days", ["name", "mentor_id", "certification_name", "certification_id", "expires_at"]],
    ["paused_mentors", "Paused mentors", ["name", "mentor_id", "open_pauses"]],
    ["unreadable_certifications", "Unreadable expiry dates", ["certification_id", "expires_at"]],
  ];
  async function loadReport() {
    const target = document.getElementById("report");
    const report = await api("/reports/" + root.dataset.reportId);
    const parts = [el("p", { className: "muted" }, report.kind + " · run " + report.run_id + " · generated " + report.generated_at)];
    for (const [key, title, columns] of SECTIONS) {
      const entries = Array.isArray(report.body[key]) ? report.body[key] : [];
      parts.push(el("h2", {}, title + " (" + entries.length + ")"));
      const rows = entries.map((entry) => el("tr", {}, ...columns.map((c) => td(c, c === "open_pauses"
        ? (entry[c] || []).map((p) => p.reason + " since " + p.paused_at + (p.auto_lift_at ? ", lifts " + p.auto_lift_at : "")).join("; ")
        : entry[c]))));
      parts.push(rows.length ? table(columns, rows) : el("p", { className: "muted" }, "None."));
    }
    const section = el("section", {}, ...parts);
    section.id = "report-body";
    target.replaceChildren(section);
  }

  const VIEWS = { deliveries: loadDeliveries, reports: loadReports, report: loadReport };
  async function load() {
    tokenForm.hidden = !!dashboard.token();
    try { await VIEWS[root.dataset.view](); }
    catch (error) { say(error.message, true); if (error.needsToken) { tokenForm.hidden = false; tokenInput.focus(); } }
  }
  dashboard.onTokenKept(() => {
    say("");
    load();
  });
  load();
})();
`;
