import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { OUTBOX_STATUSES } from "../db/platform-schema";
import { pageSchema } from "../lib/paging";
import { access, errors } from "../openapi/operations";
import * as delivery from "../services/delivery-service";
import { JobNameSchema, LimitQuery } from "./schemas";
import { validationHook } from "./validation";

const NotificationsQuery = z.strictObject({
  status: z.enum(OUTBOX_STATUSES).optional(),
  type: z.string().min(1).max(64).optional().openapi({ example: "cert_expiry_reminder" }),
  mentor_id: z.string().min(1).max(128).optional(),
  run_id: z.string().min(1).max(200).optional().openapi({ example: "run-0094", description: "Run ids are per job; add job_name to be exact" }),
  job_name: JobNameSchema.optional(),
  limit: LimitQuery,
  cursor: delivery.notificationPaging.cursorQuery,
});

const IdParam = z.object({
  id: z
    .string()
    .regex(/^(ntf_)?[0-9]{1,15}$/, { message: "id must be a notification id (12 or ntf_12)" })
    .openapi({ param: { name: "id", in: "path" }, example: "12" }),
});

const NotificationSchema = z
  .object({
    notification_id: z.number().int(),
    message_id: z.string().openapi({ description: "The stable id receivers see (webhook-id)", example: "ntf_12" }),
    type: z.string().openapi({ example: "cert_expiry_reminder" }),
    status: z.enum(OUTBOX_STATUSES),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    delivered_to: z.array(z.string()).openapi({ description: 'Targets that accepted it: "webhook", "email:<address>"' }),
    mentor_id: z.string().nullable(),
    job_name: z.string().nullable(),
    run_id: z.string().nullable(),
    dedupe_key: z.string(),
    created_at: z.string(),
    next_attempt_at: z.string().nullable(),
    sent_at: z.string().nullable(),
    payload: z.record(z.string(), z.unknown()),
  })
  .openapi("Notification");


/** The outbox, read and retried. Token required even when reads are public: it holds personal data. */
export const notificationsRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(
    createRoute({
      method: "get",
      path: "/notifications",
      operationId: "listNotifications",
      summary: "List notifications and their delivery state, newest first (requires a token)",
      ...access("read"),
      request: { query: NotificationsQuery },
      responses: {
        200: {
          content: { "application/json": { schema: pageSchema(NotificationSchema) } },
          description: "Newest first",
        },
        ...errors("read", 400),
      },
    }),
    async (c) => c.json(await delivery.listNotifications(c.var.db, c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/notifications/{id}/retry",
      operationId: "retryNotification",
      summary: "Send a dead or failed notification again (requires a token; audited)",
      ...access("operator"),
      request: { params: IdParam },
      responses: {
        200: { content: { "application/json": { schema: NotificationSchema } }, description: "Back to pending and queued" },
        ...errors("operator", 400, [404, "No such notification"], [409, "Not dead or failed (e.g. already sent, or pending)"]),
      },
    }),
    async (c) => {
      const id = delivery.parseNotificationId(c.req.valid("param").id);
      return c.json(await delivery.retryNotification(c.env, c.var.db, id, c.var.actor), 200);
    },
  );
