/**
 * The job page's script: acts through the public API with the bearer token
 * the operator typed (kept as token-script.ts says). Everything it needs comes
 * from data- attributes, so no value is templated into code.
 */
export const ACTIONS_SCRIPT = `
(() => {
  const FLASH_KEY = "nightly-scheduler.flash";
  const root = document.querySelector("[data-job-api]");
  if (!root) return;
  const api = root.dataset.jobApi;
  // Pause and resume change the job only as this page showed it (If-Match), never over someone else's change.
  const shownVersion = '"' + root.dataset.jobVersion + '"';
  const { say } = dashboard;
  const tokenSet = document.getElementById("token-set");
  const buttons = [...document.querySelectorAll("button[data-action]")];

  const showToken = () => {
    const has = !!dashboard.token();
    dashboard.tokenForm.hidden = has;
    tokenSet.hidden = !has;
  };

  dashboard.onTokenKept(() => {
    showToken();
    say("Token kept for this browser tab.");
  });
  document.getElementById("token-forget").addEventListener("click", () => {
    dashboard.forgetToken();
    showToken();
    say("Token forgotten.");
  });

  const ACTIONS = {
    run: { method: "POST", path: "/trigger", body: { dry_run: false, triggered_by: "dashboard" }, done: (r) => "Run " + r.run_id + " started." },
    "dry-run": { method: "POST", path: "/trigger", body: { dry_run: true, triggered_by: "dashboard" }, done: (r) => "Dry run " + r.run_id + " started." },
    pause: { method: "PATCH", path: "", body: { is_active: false }, ifMatch: true, done: () => "Job paused." },
    resume: { method: "PATCH", path: "", body: { is_active: true }, ifMatch: true, done: () => "Job resumed." },
  };

  for (const button of buttons) {
    button.addEventListener("click", async () => {
      const action = ACTIONS[button.dataset.action];
      const token = dashboard.token();
      if (!token) { say("Enter the API token first.", true); dashboard.tokenInput.focus(); return; }
      buttons.forEach((b) => (b.disabled = true));
      say(button.textContent + "…");
      try {
        const response = await fetch(api + action.path, {
          method: action.method,
          headers: Object.assign(
            { authorization: "Bearer " + token, "content-type": "application/json" },
            action.ifMatch ? { "if-match": shownVersion } : {},
          ),
          body: JSON.stringify(action.body),
        });
        const body = await response.json().catch(() => null);
        if (response.status === 412) {
          sessionStorage.setItem(FLASH_KEY, "Someone else changed this job since this page was loaded, so nothing was changed. " +
            "This is the job as it is now: check it, then try again.");
          location.reload();
          return;
        }
        if (!response.ok) {
          if (response.status === 401) { dashboard.forgetToken(); showToken(); }
          say(button.textContent + " failed (" + response.status + "): " + (body && body.error ? body.error.message : response.statusText), true);
          return;
        }
        sessionStorage.setItem(FLASH_KEY, action.done(body));
        location.reload();
      } catch (error) {
        say(button.textContent + " failed: " + error, true);
      } finally {
        buttons.forEach((b) => (b.disabled = false));
      }
    });
  }

  showToken();
  const flash = sessionStorage.getItem(FLASH_KEY);
  if (flash) { sessionStorage.removeItem(FLASH_KEY); say(flash); }
  // A run in progress: look again shortly, so its outcome shows without a manual reload.
  if (document.querySelector('[data-run-status="running"]')) setTimeout(() => location.reload(), 2000);
})();
`;
