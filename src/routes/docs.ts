import type { OpenAPIHono } from "@hono/zod-openapi";
import { swaggerUI } from "@hono/swagger-ui";
import type { AppEnv } from "../app-env";

export const OPENAPI_PATH = "/api/v1/scheduler/openapi.json";

const DESCRIPTION = [
  "Cron jobs on Cloudflare Workers: one Durable Object per job owns its alarm, D1 holds the registry and run history.",
  "",
  "Every path is also served under the contract's doubled prefix (`/api/v1/scheduler/api/v1/scheduler/...`); this document lists the canonical paths only.",
  "",
  "Changes (POST, PATCH, DELETE) and the audit trail need `Authorization: Bearer <token>`; reads need it only when the server sets `REQUIRE_AUTH_FOR_READS`.",
  "Every error is `{ \"error\": { \"code\", \"message\", \"details\"? } }` (schema `Error`).",
].join("\n");

/**
 * GET /api/v1/scheduler/openapi.json (OpenAPI 3.1, generated from the routes'
 * own zod schemas, so it cannot drift from validation) and GET /docs (Swagger UI).
 * Registered on the root app: only it sees every sub-app's routes.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "The API token (SCHEDULER_API_TOKEN; several, comma-separated, during a rotation).",
  });
  app.doc31(OPENAPI_PATH, (c) => ({
    openapi: "3.1.0",
    info: { title: "Nightly Scheduler API", version: "1.0.0", description: DESCRIPTION },
    servers: [{ url: new URL(c.req.url).origin, description: "This server" }],
  }));
  app.get("/docs", swaggerUI({ url: OPENAPI_PATH, title: "Nightly Scheduler API", version: "5", persistAuthorization: false }));
}
