import { env } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { z } from "@hono/zod-openapi";
import { checkCertificationExpiry } from "../src/handlers/certification-expiry";
import { liftExpiredPauses } from "../src/handlers/pause-auto-lift";
import { weeklyExpiryReportHandler } from "../src/handlers/weekly-expiry-report";
import { WEBHOOK_EVENTS, type WebhookEventType } from "../src/openapi/webhooks";
import { call, uniqueName } from "./helpers/api";
import { consume, envFor, received } from "./helpers/delivery";
import { addMentor, addPause, at, ctx, DB } from "./helpers/platform-fixtures";
import { run } from "./helpers/run-handler";

type Operation = {
  operationId: string;
  security: unknown[];
  parameters: { name: string; in: string; required: boolean }[];
  requestBody: { required: boolean; content: { "application/json": { schema: { $ref: string } } } };
  responses: Record<string, unknown>;
};

/** The fields of a zod object schema, by name. */
const fields = (schema: z.ZodObject) => Object.keys(schema.shape).sort();

describe("the document's webhooks section (issue 16)", () => {
  it("documents every event this service sends, each a signed POST with its body schema", async () => {
    const doc = (await call("GET", "/openapi.json", { token: null })).json as { webhooks: Record<string, { post: Operation }> };
    expect(Object.keys(doc.webhooks).sort()).toEqual(
      ["cert_expiry_reminder", "job.alert.opened", "job.alert.resolved", "mentor_paused", "pause_lifted", "weekly_expiry_report"].sort(),
    );
    for (const [type, { post }] of Object.entries(doc.webhooks)) {
      expect(post.operationId, type).toMatch(/^[a-z][A-Za-z]+$/);
      expect(post.security, type).toEqual([]);
      const headers = post.parameters.filter((p) => p.in === "header" && p.required).map((p) => p.name);
      expect(headers.sort(), type).toEqual(["webhook-id", "webhook-signature", "webhook-timestamp"]);
      expect(post.requestBody.required, type).toBe(true);
      expect(post.requestBody.content["application/json"].schema.$ref, type).toMatch(/^#\/components\/schemas\/\w+Event$/);
      expect(Object.keys(post.responses), type).toEqual(expect.arrayContaining(["2XX", "4XX", "5XX", "429"]));
    }
  });

  it("describes, field for field, the bodies the handlers really send (the four platform events)", async () => {
    const now = new Date();
    const p = `/hooks/${uniqueName("doc")}`;
    const id = uniqueName("wh");
    // One of each: a reminder (expiry in 5 days), a pause (expired yesterday), a lifted pause, and a report.
    await addMentor(`${id}-soon`, { certs: [{ id: `${id}-c1`, expiresAt: at(now, { days: 5 }) }] });
    await addMentor(`${id}-expired`, { certs: [{ id: `${id}-c2`, expiresAt: at(now, { days: -1 }) }] });
    await addMentor(`${id}-paused`, { status: "paused" });
    await addPause(`${id}-paused`, "manual", { autoLiftAt: at(now, { hours: -1 }) });
    const runIds = [`run-${id}-a`, `run-${id}-b`, `run-${id}-c`];
    await run(checkCertificationExpiry, ctx(now, { runId: runIds[0] }));
    await run(liftExpiredPauses, ctx(now, { runId: runIds[1] }));
    await run(weeklyExpiryReportHandler(), ctx(now, { runId: runIds[2], jobId: 9_016 }));

    const rows = await DB.prepare(`SELECT notification_id, kind FROM notification_outbox WHERE created_by_run IN (?, ?, ?)`)
      .bind(...runIds)
      .all<{ notification_id: number; kind: string }>();
    await consume(
      rows.results.map((r) => r.notification_id),
      envFor(p),
    );
    const requests = await received(p);
    expect(requests.length).toBe(rows.results.length);

    const seen = new Set<string>();
    for (const request of requests) {
      const event = new Webhook(env.NOTIFY_WEBHOOK_SECRET!).verify(request.body, request.headers) as { type: WebhookEventType; data: object };
      const schema = WEBHOOK_EVENTS[event.type];
      expect(schema, event.type).toBeDefined();
      expect(() => schema.parse(event), event.type).not.toThrow();
      // Exactly the documented fields: none missing (parse) and none undocumented.
      expect(Object.keys(event).sort(), event.type).toEqual(fields(schema));
      expect(Object.keys(event.data).sort(), event.type).toEqual(fields(schema.shape.data as z.ZodObject));
      seen.add(event.type);
    }
    expect([...seen].sort()).toEqual(["cert_expiry_reminder", "mentor_paused", "pause_lifted", "weekly_expiry_report"]);
  });
});
