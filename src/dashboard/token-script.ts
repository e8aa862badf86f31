/**
 * What the page scripts share, served first in /dashboard.js (one file, so its
 * top-level `dashboard` is theirs): the status line, and the API token the
 * operator typed, kept in sessionStorage (this tab only, gone when it closes;
 * never a cookie, never sent to the page's own routes).
 */
export const TOKEN_SCRIPT = `
const dashboard = (() => {
  const TOKEN_KEY = "nightly-scheduler.token";
  const status = document.getElementById("action-status");
  const tokenForm = document.getElementById("token-form");
  const tokenInput = document.getElementById("token");
  const say = (text, isError) => { status.textContent = text; status.className = isError ? "error" : ""; };
  return {
    say,
    tokenForm,
    tokenInput,
    token: () => sessionStorage.getItem(TOKEN_KEY),
    forgetToken: () => sessionStorage.removeItem(TOKEN_KEY),
    /** Keeps the token the form is given, then calls kept(); an empty one is refused. */
    onTokenKept(kept) {
      tokenForm.addEventListener("submit", (event) => {
        event.preventDefault();
        const value = tokenInput.value.trim();
        if (!value) return say("Enter the API token (SCHEDULER_API_TOKEN).", true);
        sessionStorage.setItem(TOKEN_KEY, value);
        tokenInput.value = "";
        kept();
      });
    },
  };
})();
`;
