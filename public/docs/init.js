// Starts Swagger UI on /docs. A file, not an inline script, so the page's
// Content-Security-Policy can forbid inline code. No request leaves this origin:
// the spec is this server's, and the online validator badge is off.
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    validatorUrl: null,
    // Shows each operation's x-required-role (the role its key needs).
    showExtensions: true,
  });
});
