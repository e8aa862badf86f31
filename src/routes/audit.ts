import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { pageSchema } from "../lib/paging";
import { access, errors } from "../openapi/operations";
import * as audit from "../services/audit-service";
import { JobNameSchema, LimitQuery } from "./schemas";
import { validationHook } from "./validation";

const AuditQuery = z.strictObject({
  job_name: JobNameSchema.optional(),
  limit: LimitQuery,
  cursor: audit.auditPaging.cursorQuery,
});

const AuditEntrySchema = z
  .object({
    audit_id: z.string(),
    at: z.string(),
    action: z.string(),
    job_name: z.string(),
    actor: z.string(),
    request_id: z.string().nullable().openapi({ description: "The server's id for the request (its X-Request-Id response header)" }),
    client_request_id: z.string().nullable().openapi({ description: "The X-Request-Id the client sent, if well-formed (at most 64 of A-Z a-z 0-9 . _ : -)" }),
    source_ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
  })
  .openapi("AuditEntry");

/** The audit trail of every change: who, when, what (before and after), from where. Token required. */
export const auditRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(
  createRoute({
    method: "get",
    path: "/audit",
    operationId: "listAudit",
    summary: "Read the audit trail of changes (requires a key with the read role or above)",
    ...access("read"),
    request: { query: AuditQuery },
    responses: {
      200: {
        content: { "application/json": { schema: pageSchema(AuditEntrySchema) } },
        description: "Newest first",
      },
      ...errors("read", 400),
    },
  }),
  async (c) => c.json(await audit.listAudit(c.var.db, c.req.valid("query")), 200),
);

