import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { iso } from "../lib/ids";
import { access, errors } from "../openapi/operations";
import { listAudit } from "../repositories/audit-repo";
import { JobNameSchema, LimitQuery } from "./schemas";
import { validationHook } from "./validation";

const AuditQuery = z.strictObject({
  job_name: JobNameSchema.optional(),
  limit: LimitQuery,
  cursor: z.string().regex(/^audit-[0-9]{1,15}$/, { message: "cursor must be the next_cursor of the previous page" }).optional(),
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

const cursorOf = (seq: number) => `audit-${seq}`;

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
        content: { "application/json": { schema: z.object({ data: z.array(AuditEntrySchema), next_cursor: z.string().nullable() }) } },
        description: "Newest first",
      },
      ...errors("read", 400),
    },
  }),
  async (c) => {
    const { job_name, limit, cursor } = c.req.valid("query");
    const beforeSeq = cursor ? Number(cursor.slice("audit-".length)) : undefined;
    const rows = await listAudit(c.var.db, limit + 1, job_name, beforeSeq);
    const page = rows.slice(0, limit);
    return c.json(
      {
        data: page.map((row) => ({
          audit_id: cursorOf(row.seq),
          at: iso(new Date(row.at)),
          action: row.action,
          job_name: row.jobName,
          actor: row.actor,
          request_id: row.requestId,
          client_request_id: row.clientRequestId,
          source_ip: row.sourceIp,
          user_agent: row.userAgent,
          before: row.before ?? null,
          after: row.after ?? null,
        })),
        next_cursor: rows.length > limit ? cursorOf(page[page.length - 1]!.seq) : null,
      },
      200,
    );
  },
);

