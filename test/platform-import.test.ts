import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES, MAX_IMPORT_BODY_BYTES } from "../src/app";
import { PLATFORM_AUDIT_NAME } from "../src/services/platform-import";
import { call } from "./helpers/api";
import { addPause, resetPlatform, snapshot } from "./helpers/platform-fixtures";

// The import API (src/routes/platform.ts). Storage is per test file; each test starts from empty platform tables.

const mentor = (i: number, fields: Record<string, unknown> = {}) => ({
  mentor_id: `m-${i}`,
  name: `Mentor ${i}`,
  email: `m${i}@example.org`,
  status: "active",
  ...fields,
});
const cert = (i: number, mentorNo: number, fields: Record<string, unknown> = {}) => ({
  certification_id: `c-${i}`,
  mentor_id: `m-${mentorNo}`,
  name: `Cert ${i}`,
  expires_at: "2031-01-01T00:00:00Z",
  ...fields,
});
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const putMentors = (mentors: unknown[], token?: string | null) => call("PUT", "/platform/mentors", { body: { mentors }, token });
const putCerts = (certifications: unknown[]) => call("PUT", "/platform/certifications", { body: { certifications } });

async function platformAudit() {
  const { results } = await env.DB.prepare("SELECT action, actor, request_id, client_request_id, after FROM audit_log WHERE job_name = ? ORDER BY seq")
    .bind(PLATFORM_AUDIT_NAME)
    .all<{ action: string; actor: string; request_id: string; client_request_id: string | null; after: string }>();
  return results.map((r) => ({ ...r, after: JSON.parse(r.after) }));
}

beforeEach(async () => {
  await resetPlatform();
  await env.DB.prepare("DELETE FROM audit_log WHERE job_name = ?").bind(PLATFORM_AUDIT_NAME).run();
});

describe("PUT /platform/mentors and /platform/certifications", () => {
  it("stores a batch with the columns' own names, normalises expires_at, and answers with counts", async () => {
    const res = await putMentors([mentor(1), mentor(2, { status: "paused" })]);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ rows: 2, created: 2, updated: 0 });
    const certs = await putCerts([cert(1, 1, { expires_at: "2031-06-30T12:00:00.5Z" }), cert(2, 2)]);
    expect(certs.status).toBe(200);
    expect(certs.json).toEqual({ rows: 2, created: 2, updated: 0 });

    const state = await snapshot();
    expect(state.mentors).toEqual([
      { mentor_id: "m-1", name: "Mentor 1", email: "m1@example.org", status: "active", created_at: expect.stringMatching(/Z$/) },
      { mentor_id: "m-2", name: "Mentor 2", email: "m2@example.org", status: "paused", created_at: expect.stringMatching(/Z$/) },
    ]);
    expect(state.certifications).toEqual([
      { certification_id: "c-1", mentor_id: "m-1", name: "Cert 1", expires_at: "2031-06-30T12:00:00.500Z" },
      { certification_id: "c-2", mentor_id: "m-2", name: "Cert 2", expires_at: "2031-01-01T00:00:00.000Z" },
    ]);
  });

  it("is idempotent: the same batch twice leaves the same state; a changed row is updated in place, created_at kept", async () => {
    const batch = range(50).map((i) => mentor(i));
    expect((await putMentors(batch)).json).toEqual({ rows: 50, created: 50, updated: 0 });
    const certs = range(50).map((i) => cert(i, i));
    expect((await putCerts(certs)).status).toBe(200);
    const first = await snapshot();

    expect((await putMentors(batch)).json).toEqual({ rows: 50, created: 0, updated: 50 });
    expect((await putCerts(certs)).json).toEqual({ rows: 50, created: 0, updated: 50 });
    expect(await snapshot()).toEqual(first);

    const changed = await putMentors([mentor(3, { name: "Renamed", status: "paused" }), mentor(99)]);
    expect(changed.json).toEqual({ rows: 2, created: 1, updated: 1 });
    const row = await env.DB.prepare("SELECT * FROM mentors WHERE mentor_id = 'm-3'").first();
    const was = first.mentors!.find((m: any) => m.mentor_id === "m-3") as Record<string, unknown>;
    expect(row).toEqual({ ...was, name: "Renamed", status: "paused" });
  });

  it("refuses a batch with one bad row, writes nothing, and names the row, the field and the reason", async () => {
    await putMentors([mentor(1)]);
    const before = await snapshot();
    const rows = range(10).map((i) => mentor(100 + i));
    rows[7] = mentor(107, { email: "not-an-email" });
    const res = await putMentors(rows);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("validation_error");
    expect(res.json.error.message).toMatch(/^Nothing was written: row 7 \(email\): email must be an email address\.$/);
    expect(res.json.error.details).toEqual({ issues: [{ index: 7, field: "email", reason: "email must be an email address" }], issue_count: 1 });
    expect(await snapshot()).toEqual(before);
  });

  it("names every kind of bad row", async () => {
    const cases: { row: Record<string, unknown>; field: string | null; says: RegExp }[] = [
      { row: mentor(1, { status: "retired" }), field: "status", says: /status must be "active" or "paused"/ },
      { row: mentor(1, { mentor_id: "" }), field: "mentor_id", says: /must not be empty/ },
      { row: mentor(1, { mentor_id: " m" }), field: "mentor_id", says: /whitespace/ },
      { row: mentor(1, { name: "x".repeat(201) }), field: "name", says: /at most 200/ },
      { row: { mentor_id: "m-1", name: "A", email: "a@example.org" }, field: "status", says: /status/ },
      { row: mentor(1, { phone: "123" }), field: null, says: /unknown field: phone/ },
    ];
    for (const { row, field, says } of cases) {
      const res = await putMentors([mentor(0), row]);
      expect(res.status, JSON.stringify(row)).toBe(400);
      expect(res.json.error.details.issues[0], JSON.stringify(row)).toMatchObject({ index: 1, field });
      expect(res.json.error.details.issues[0].reason, JSON.stringify(row)).toMatch(says);
    }
    await putMentors([mentor(0)]);
    const certCases: { row: Record<string, unknown>; says: RegExp }[] = [
      { row: cert(1, 0, { expires_at: "2031-01-01" }), says: /ISO-8601 UTC instant/ },
      { row: cert(1, 0, { expires_at: "2031-01-01T00:00:00+02:00" }), says: /ISO-8601 UTC instant/ },
      { row: cert(1, 0, { expires_at: "2031-02-29T00:00:00Z" }), says: /ISO-8601 UTC instant/ },
      { row: cert(1, 0, { expires_at: 1_900_000_000 }), says: /ISO-8601 UTC instant|expected string/ },
    ];
    for (const { row, says } of certCases) {
      const res = await putCerts([cert(0, 0), row]);
      expect(res.status, JSON.stringify(row)).toBe(400);
      expect(res.json.error.details.issues[0], JSON.stringify(row)).toMatchObject({ index: 1, field: "expires_at" });
      expect(res.json.error.details.issues[0].reason).toMatch(says);
    }
    expect((await snapshot()).certifications).toEqual([]);
  });

  it("refuses unknown fields at the top level, a repeated id, an empty list and more than 1,000 rows", async () => {
    const extra = await call("PUT", "/platform/mentors", { body: { mentors: [mentor(1)], replace_all: true } });
    expect(extra.status).toBe(400);
    expect(extra.json.error.message).toMatch(/unknown field: replace_all/);

    const repeated = await putMentors([mentor(1), mentor(2), mentor(1, { name: "Again" })]);
    expect(repeated.status).toBe(400);
    expect(repeated.json.error.details.issues).toEqual([{ index: 2, field: "mentor_id", reason: 'mentor_id "m-1" repeats row 0' }]);

    expect((await putMentors([])).json.error.message).toMatch(/at least one row/);

    const tooMany = await putMentors(range(1001).map((i) => mentor(i)));
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.details.issues).toEqual([{ index: null, field: "mentors", reason: expect.stringMatching(/more than 1000 rows; send at most 1000/) }]);
    expect((await snapshot()).mentors).toEqual([]);
  });

  it("lists the first 20 bad rows of a batch and says how many there were", async () => {
    const res = await putMentors(range(1000).map((i) => mentor(i, { email: "nope" })));
    expect(res.status).toBe(400);
    expect(res.json.error.details.issue_count).toBe(1000);
    expect(res.json.error.details.issues).toHaveLength(20);
    expect(res.json.error.message).toMatch(/and 980 more\.$/);
  });

  it("refuses certifications naming a mentor that is not stored, with the rows' indexes, and writes none", async () => {
    await putMentors([mentor(1), mentor(2)]);
    const res = await putCerts([cert(1, 1), cert(2, 404), cert(3, 2), cert(4, 404)]);
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("unknown_mentor");
    expect(res.json.error.details.issues).toEqual([
      { index: 1, field: "mentor_id", reason: expect.stringMatching(/no mentor "m-404" is stored/) },
      { index: 3, field: "mentor_id", reason: expect.stringMatching(/no mentor "m-404" is stored/) },
    ]);
    expect((await snapshot()).certifications).toEqual([]);
  });

  it("takes a 1,000-row batch of about 400 KB, refuses a body over 1 MiB with 413, and keeps 16 KiB on other routes", async () => {
    // Long names make the body large: about 400 KB of 1,000 rows.
    const big = range(1000).map((i) => mentor(i, { name: `${"n".repeat(190)}${i}`, email: `${"e".repeat(180)}${i}@example.org` }));
    const ok = await putMentors(big);
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ rows: 1000, created: 1000, updated: 0 });

    const before = await snapshot();
    const over = JSON.stringify({ mentors: [mentor(1, { name: "x".repeat(MAX_IMPORT_BODY_BYTES) })] });
    const res = await call("PUT", "/platform/mentors", { rawBody: over, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(413);
    expect(res.json.error).toMatchObject({ code: "payload_too_large", message: expect.stringMatching(/1 MiB/) });
    expect(await snapshot()).toEqual(before);

    const elsewhere = await call("POST", "/jobs", { rawBody: JSON.stringify({ pad: "x".repeat(17 * 1024) }), headers: { "content-type": "application/json" } });
    expect(elsewhere.status).toBe(413);
    expect(elsewhere.json.error.message).toContain(`${MAX_BODY_BYTES} bytes (16 KiB)`);
  });

  it("refuses a body that is not JSON, or not sent as JSON, like every other route", async () => {
    const broken = await call("PUT", "/platform/mentors", { rawBody: '{"mentors": [', headers: { "content-type": "application/json" } });
    expect(broken.status).toBe(400);
    expect(broken.json.error.message).toMatch(/not valid JSON/);
    const text = await call("PUT", "/platform/mentors", { rawBody: JSON.stringify({ mentors: [mentor(1)] }), headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    const notObject = await call("PUT", "/platform/mentors", { body: [mentor(1)] });
    expect(notObject.status).toBe(400);
    expect((await snapshot()).mentors).toEqual([]);
  });

  it("needs the token, for every platform route, even with a body", async () => {
    for (const [method, path, body] of [
      ["PUT", "/platform/mentors", { mentors: [mentor(1)] }],
      ["PUT", "/platform/certifications", { certifications: [cert(1, 1)] }],
      ["POST", "/platform/mentors/delete", { mentor_ids: ["m-1"] }],
      ["POST", "/platform/certifications/delete", { certification_ids: ["c-1"] }],
    ] as const) {
      const anonymous = await call(method, path, { body, token: null });
      expect(anonymous.status, path).toBe(401);
      expect((await call(method, path, { body, token: "wrong" })).status, path).toBe(401);
    }
    expect((await snapshot()).mentors).toEqual([]);
  });

  it("audits each request as one row of counts, never the rows themselves", async () => {
    await putMentors(range(30).map((i) => mentor(i)));
    await putMentors(range(40).map((i) => mentor(i)));
    await putCerts([cert(1, 1), cert(2, 1)]);
    await call("POST", "/platform/certifications/delete", { body: { certification_ids: ["c-1", "c-404"] } });
    // A named key (issue 14): the actor is the key's name; the client's X-Request-Id is kept beside the server's.
    await call("POST", "/platform/mentors/delete", {
      body: { mentor_ids: ["m-1", "m-2"] },
      token: "test-key-admin",
      headers: { "x-request-id": "platform-sync-42" },
    });
    await putMentors([mentor(1, { email: "bad" })]); // refused: no audit row

    const rows = await platformAudit();
    expect(rows.map((r) => [r.action, r.after])).toEqual([
      ["platform_import", { rows: 30, created: 30, updated: 0 }],
      ["platform_import", { rows: 40, created: 10, updated: 30 }],
      ["platform_import", { rows: 2, created: 2, updated: 0 }],
      ["platform_delete", { certifications: 1 }],
      ["platform_delete", { mentors: 2, certifications: 1, pauses: 0 }],
    ]);
    // The unnamed SCHEDULER_API_TOKEN is "api"; nothing derived from a token is stored.
    expect(rows.map((r) => r.actor)).toEqual(["api", "api", "api", "api", "boss"]);
    expect(rows.map((r) => r.client_request_id)).toEqual([null, null, null, null, "platform-sync-42"]);
    expect(rows.every((r) => /^[0-9a-f-]{36}$/.test(r.request_id))).toBe(true);
    const listed = await call("GET", "/audit?limit=5");
    expect(listed.json.data[0]).toMatchObject({ action: "platform_delete", job_name: PLATFORM_AUDIT_NAME });
  });
});

describe("POST /platform/mentors/delete and /platform/certifications/delete", () => {
  it("deletes mentors with their certifications and pauses, and is idempotent", async () => {
    await putMentors(range(3).map((i) => mentor(i)));
    await putCerts([cert(1, 0), cert(2, 0), cert(3, 1), cert(4, 2)]);
    await addPause("m-0", "vacation");
    const res = await call("POST", "/platform/mentors/delete", { body: { mentor_ids: ["m-0", "m-1", "m-404"] } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ deleted: { mentors: 2, certifications: 3, pauses: 1 } });
    const state = await snapshot();
    expect(state.mentors!.map((m: any) => m.mentor_id)).toEqual(["m-2"]);
    expect(state.certifications!.map((c: any) => c.certification_id)).toEqual(["c-4"]);
    expect(state.pauses).toEqual([]);

    const again = await call("POST", "/platform/mentors/delete", { body: { mentor_ids: ["m-0", "m-1"] } });
    expect(again.json).toEqual({ deleted: { mentors: 0, certifications: 0, pauses: 0 } });
  });

  it("deletes certifications by id and validates the id list", async () => {
    await putMentors([mentor(1)]);
    await putCerts([cert(1, 1), cert(2, 1)]);
    const res = await call("POST", "/platform/certifications/delete", { body: { certification_ids: ["c-1"] } });
    expect(res.json).toEqual({ deleted: { certifications: 1 } });
    expect((await snapshot()).certifications!.map((c: any) => c.certification_id)).toEqual(["c-2"]);

    const bad = await call("POST", "/platform/certifications/delete", { body: { certification_ids: ["c-2", ""] } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues).toEqual([{ index: 1, field: null, reason: "certification_ids must not be empty" }]);
    const tooMany = await call("POST", "/platform/mentors/delete", { body: { mentor_ids: range(1001).map((i) => `m-${i}`) } });
    expect(tooMany.status).toBe(400);
    expect((await snapshot()).certifications).toHaveLength(1);
  });
});
