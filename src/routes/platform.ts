import { createRoute, OpenAPIHono, z, type Hook } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { access, BODY_ERRORS, errors, json } from "../openapi/operations";
import * as platform from "../services/platform-import";
import { MAX_ROWS, rowIssues } from "../services/platform-import";

// The import API for platforms whose data lives elsewhere (docs/platform-data.md).
// Bodies use the columns' own names. A request is one batch: every row is
// checked before anything is written, and one bad row refuses all of them.

const Id = (what: string) =>
  z
    .string()
    .min(1, { error: `${what} must not be empty` })
    .max(128, { error: `${what} must be at most 128 characters` })
    .regex(/^(?:\S(?:.*\S)?)?$/, { error: `${what} must not start or end with whitespace` });

const Text = (what: string, max: number) =>
  z.string().trim().min(1, { error: `${what} must not be empty` }).max(max, { error: `${what} must be at most ${max} characters` });

const MentorRow = z
  .strictObject({
    mentor_id: Id("mentor_id"),
    name: Text("name", 200),
    email: z.email({ error: "email must be an email address" }).max(254, { error: "email must be at most 254 characters" }),
    status: z.enum(["active", "paused"], { error: 'status must be "active" or "paused"' }),
  })
  .openapi("PlatformMentor", { example: { mentor_id: "mentor-001", name: "Amara Fernandes", email: "amara@example.org", status: "active" } });

const CertificationRow = z
  .strictObject({
    certification_id: Id("certification_id"),
    mentor_id: Id("mentor_id"),
    name: Text("name", 200),
    // An instant in UTC with a Z (zod also refuses 2031-02-30), stored as toISOString() gives it: the
    // handlers compare instants, and a zone-less time would be a guess.
    expires_at: z.iso
      .datetime({ error: "expires_at must be an ISO-8601 UTC instant such as 2026-12-31T23:59:59Z" })
      .transform((value) => new Date(value).toISOString()),
  })
  .openapi("PlatformCertification", {
    example: { certification_id: "cert-001", mentor_id: "mentor-001", name: "Safeguarding", expires_at: "2026-12-31T23:59:59Z" },
  });

/** 1..MAX_ROWS rows, each id at most once (a repeated id in one batch is a mistake, not "last one wins"). */
const rows = <T extends z.ZodType>(row: T, key: string, idField: string) =>
  z
    .array(row)
    .min(1, { error: `${key} must hold at least one row` })
    .max(MAX_ROWS, { error: `${key} holds more than ${MAX_ROWS} rows; send at most ${MAX_ROWS} per request` })
    .superRefine((items, ctx) => {
      const seen = new Map<string, number>();
      items.forEach((item, index) => {
        const id = (item as Record<string, string>)[idField]!;
        const first = seen.get(id);
        if (first === undefined) seen.set(id, index);
        else ctx.addIssue({ code: "custom", path: [index, idField], message: `${idField} "${id}" repeats row ${first}` });
      });
    });

const MentorsBody = z.strictObject({ mentors: rows(MentorRow, "mentors", "mentor_id") }).openapi("PlatformMentorsImport");
const CertificationsBody = z
  .strictObject({ certifications: rows(CertificationRow, "certifications", "certification_id") })
  .openapi("PlatformCertificationsImport");

const idList = (key: string) =>
  z
    .array(Id(key))
    .min(1, { error: `${key} must hold at least one id` })
    .max(MAX_ROWS, { error: `${key} holds more than ${MAX_ROWS} ids; send at most ${MAX_ROWS} per request` });
const DeleteMentorsBody = z.strictObject({ mentor_ids: idList("mentor_ids") }).openapi("PlatformMentorsDelete");
const DeleteCertificationsBody = z.strictObject({ certification_ids: idList("certification_ids") }).openapi("PlatformCertificationsDelete");

const ImportResult = z
  .object({
    rows: z.number().int().openapi({ description: "Rows in the request" }),
    created: z.number().int().openapi({ description: "Ids that were not stored before" }),
    updated: z.number().int().openapi({ description: "Ids that were stored already (their row now equals the request's)" }),
  })
  .openapi("PlatformImportResult", { example: { rows: 1000, created: 998, updated: 2 } });
const DeleteMentorsResult = z
  .object({ deleted: z.object({ mentors: z.number().int(), certifications: z.number().int(), pauses: z.number().int() }) })
  .openapi("PlatformMentorsDeleted", { example: { deleted: { mentors: 2, certifications: 5, pauses: 1 } } });
const DeleteCertificationsResult = z
  .object({ deleted: z.object({ certifications: z.number().int() }) })
  .openapi("PlatformCertificationsDeleted", { example: { deleted: { certifications: 5 } } });

/** A refused body: 400 naming each bad row by index, field and reason (the first few; the count says how many). */
const rowHook: Hook<any, AppEnv, any, any> = (result) => {
  if (result.success) return;
  throw rowIssues((result.error as unknown as { issues: platform.ZodIssueLike[] }).issues);
};

const body = <T extends z.ZodType>(schema: T) => ({ body: { content: { "application/json": { schema } }, required: true } });
const refusals = errors("admin", ...BODY_ERRORS);

/** The platform data import: one sub-app, mounted at /api/v1/scheduler. Token required (app.ts). */
export const platformRoutes = new OpenAPIHono<AppEnv>({ defaultHook: rowHook })
  .openapi(
    createRoute({
      method: "put",
      path: "/platform/mentors",
      operationId: "importMentors",
      summary: `Upsert up to ${MAX_ROWS} mentors by mentor_id, all or none (requires a token)`,
      ...access("admin"),
      request: body(MentorsBody),
      responses: { 200: json(ImportResult, "Every row stored"), ...refusals },
    }),
    async (c) => c.json(await platform.importMentors(c.var.db, c.req.valid("json").mentors, c.var.actor), 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/platform/certifications",
      operationId: "importCertifications",
      summary: `Upsert up to ${MAX_ROWS} certifications by certification_id, all or none (requires a token)`,
      ...access("admin"),
      request: body(CertificationsBody),
      responses: { 200: json(ImportResult, "Every row stored"), ...errors("admin", ...BODY_ERRORS, [422, "A row names a mentor_id that is not stored"]) },
    }),
    async (c) => c.json(await platform.importCertifications(c.var.db, c.req.valid("json").certifications, c.var.actor), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/platform/mentors/delete",
      operationId: "deleteMentors",
      summary: `Delete up to ${MAX_ROWS} mentors with their certifications and pauses (requires a token)`,
      ...access("admin", "POST with the ids in the body rather than DELETE with a body, whose meaning HTTP leaves undefined. Ids not stored are ignored."),
      request: body(DeleteMentorsBody),
      responses: { 200: json(DeleteMentorsResult, "Deleted; counts of what existed"), ...refusals },
    }),
    async (c) => c.json(await platform.deleteMentors(c.var.db, c.req.valid("json").mentor_ids, c.var.actor), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/platform/certifications/delete",
      operationId: "deleteCertifications",
      summary: `Delete up to ${MAX_ROWS} certifications (requires a token)`,
      ...access("admin", "POST with the ids in the body rather than DELETE with a body, whose meaning HTTP leaves undefined. Ids not stored are ignored."),
      request: body(DeleteCertificationsBody),
      responses: { 200: json(DeleteCertificationsResult, "Deleted; counts of what existed"), ...refusals },
    }),
    async (c) => c.json(await platform.deleteCertifications(c.var.db, c.req.valid("json").certification_ids, c.var.actor), 200),
  );
