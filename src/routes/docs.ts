import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { registerWebhooks } from "../openapi/webhooks";

export const OPENAPI_PATH = "/api/v1/scheduler/openapi.json";

const DESCRIPTION = [
  "Cron jobs on Cloudflare Workers: one Durable Object per job owns its alarm, D1 holds the registry and run history.",
  "",
  "Every path is also served under the contract's doubled prefix (`/api/v1/scheduler/api/v1/scheduler/...`); this document lists the canonical paths only.",
  "",
  "Changes (POST, PATCH, DELETE) and the audit trail need `Authorization: Bearer <key>`; reads need it only when the server sets `REQUIRE_AUTH_FOR_READS`.",
  "Keys have roles: `read` (the audit and other personal data), `operator` (also trigger, dry-run, pause and resume: PATCH with only `is_active`), `admin` (everything). A key without the role a request needs gets 403 naming it.",
  "Every error is `{ \"error\": { \"code\", \"message\", \"details\"? } }` (schema `Error`).",
  "Each operation names the role its key needs in `x-required-role`.",
  "",
  "What this service sends is under **Webhooks**: each event type's body, POSTed to NOTIFY_WEBHOOK_URL and signed as Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).",
].join("\n");

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nightly Scheduler API</title>
<link rel="stylesheet" href="/docs/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec-url="${OPENAPI_PATH}"></div>
<script src="/docs/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/**
 * GET /api/v1/scheduler/openapi.json (OpenAPI 3.1, generated from the routes'
 * own zod schemas, so it cannot drift from validation) and GET /docs (Swagger UI).
 * Registered on the root app: only it sees every sub-app's routes.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An API key: a named key with a role (SCHEDULER_API_KEYS), or the unnamed admin token (SCHEDULER_API_TOKEN).",
  });
  registerWebhooks(app);
  app.doc31(OPENAPI_PATH, (c) => ({
    openapi: "3.1.0",
    info: { title: "Nightly Scheduler API", version: "1.0.0", description: DESCRIPTION },
    servers: [{ url: new URL(c.req.url).origin, description: "This server" }],
  }));
  // Swagger UI's files come from Workers Static Assets (public/docs/, copied from the pinned
  // swagger-ui-dist package), so the page loads nothing from another origin and works offline.
  app.get("/docs", (c) => {
    c.header("Cache-Control", "no-store");
    return c.html(DOCS_PAGE);
  });
}
