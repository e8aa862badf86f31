import { describe, expect, it } from "vitest";
import { UNNAMED_KEY_LABEL } from "../src/middleware/auth";
import { call, registerJob, TOKEN, uniqueName } from "./helpers/api";
import { auditRows } from "./helpers/db-snapshot";
import { settled } from "./helpers/scheduler";

/**
 * Issue 4, "Audit trail": every change leaves one row saying who (a token
 * fingerprint, never the token), when, what (before and after) and from where.
 */

const TOKENS = ["test-token-old", "test-token"];
const FROM = { "cf-connecting-ip": "203.0.113.7", "user-agent": "audit-test/1.0" };

function expectNoSecret(row: Record<string, unknown>) {
  const text = JSON.stringify(row);
  for (const token of TOKENS) expect(text).not.toContain(token);
}

const parse = (value: unknown) => (typeof value === "string" ? JSON.parse(value) : value);

describe("every change is recorded once", () => {
  it("register, update, pause, resume, trigger, dry run and delete each write one row", async () => {
    const job = uniqueName("audited");
    const actor = UNNAMED_KEY_LABEL;
    const steps: { action: string; send: () => ReturnType<typeof call>; status: number }[] = [
      {
        action: "register",
        send: () => call("POST", "/jobs", { headers: FROM, body: { job_name: job, cron_expression: "0 4 * * *", handler: "testNoop" } }),
        status: 201,
      },
      { action: "update", send: () => call("PATCH", `/jobs/${job}`, { headers: FROM, body: { cron_expression: "30 4 * * *" } }), status: 200 },
      { action: "pause", send: () => call("PATCH", `/jobs/${job}`, { headers: FROM, body: { is_active: false } }), status: 200 },
      { action: "resume", send: () => call("PATCH", `/jobs/${job}`, { headers: FROM, body: { is_active: true } }), status: 200 },
      { action: "trigger", send: () => call("POST", `/jobs/${job}/trigger`, { headers: FROM, body: { triggered_by: "coordinator-007" } }), status: 202 },
      { action: "dry_run", send: () => call("POST", `/jobs/${job}/trigger`, { headers: FROM, body: { dry_run: true } }), status: 202 },
      { action: "delete", send: () => call("DELETE", `/jobs/${job}`, { headers: FROM }), status: 200 },
    ];
    const requestIds: string[] = [];
    for (const step of steps) {
      const countBefore = (await auditRows(job)).length;
      const res = await step.send();
      expect(res.status, step.action).toBe(step.status);
      requestIds.push(res.headers.get("x-request-id")!);
      const rows = await auditRows(job);
      expect(rows.length, step.action).toBe(countBefore + 1);
      const row = rows.at(-1)!;
      expect(row, step.action).toMatchObject({
        action: step.action,
        job_name: job,
        actor,
        request_id: res.headers.get("x-request-id"),
        source_ip: "203.0.113.7",
        user_agent: "audit-test/1.0",
      });
      expect(Date.parse(row.at as string), step.action).not.toBeNaN();
      expectNoSecret(row);
      if (step.action === "trigger" || step.action === "dry_run") await settled(job);
    }

    const rows = await auditRows(job);
    expect(rows.map((r) => r.action)).toEqual(steps.map((s) => s.action));
    expect(new Set(requestIds).size).toBe(steps.length);
    const [register, update, pause, resume, trigger, dryRun, del] = rows.map((r) => ({ before: parse(r.before), after: parse(r.after) }));
    expect(register).toMatchObject({ before: null, after: { job_name: job, cron_expression: "0 4 * * *", handler: "testNoop", is_active: true } });
    expect(update).toMatchObject({ before: { cron_expression: "0 4 * * *" }, after: { cron_expression: "30 4 * * *" } });
    expect(pause).toMatchObject({ before: { is_active: true }, after: { is_active: false } });
    expect(resume).toMatchObject({ before: { is_active: false }, after: { is_active: true } });
    expect(trigger).toMatchObject({ before: null, after: { run_id: expect.stringMatching(/^run-\d{4,}$/), triggered_by: "coordinator-007" } });
    // Without triggered_by, the run is attributed to the token's label, not to the token.
    expect(dryRun).toMatchObject({ before: null, after: { run_id: expect.stringMatching(/^run-\d{4,}$/), triggered_by: actor } });
    expect(del).toMatchObject({ before: { job_name: job, cron_expression: "30 4 * * *", is_active: true }, after: null });
  });

  it("records nothing for a refused change", async () => {
    const job = uniqueName("refused");
    expect((await registerJob(job)).status).toBe(201);
    const rowsBefore = await auditRows(job);
    expect((await call("PATCH", `/jobs/${job}`, { body: { cron_expression: "61 * * * *" } })).status).toBe(400);
    expect((await call("PATCH", `/jobs/${job}`, { body: { is_active: false }, token: "nope" })).status).toBe(401);
    expect((await call("POST", `/jobs/${job}/trigger`, { body: { dry_run: "yes" } })).status).toBe(400);
    expect(await auditRows(job)).toEqual(rowsBefore);
  });
});

describe("GET /audit", () => {
  it("requires a token", async () => {
    for (const token of [null, "wrong-token"]) {
      const res = await call("GET", "/audit", { token });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(res.json.error.code).toBe("unauthorized");
    }
  });

  it("reads the trail newest first, filtered by job_name, without secrets", async () => {
    const job = uniqueName("trail");
    const other = uniqueName("trail-other");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    expect((await registerJob(other, { handler: "testNoop" })).status).toBe(201);
    expect((await call("PATCH", `/jobs/${job}`, { body: { is_active: false }, headers: FROM })).status).toBe(200);

    const res = await call("GET", `/audit?job_name=${job}`);
    expect(res.status).toBe(200);
    expect(res.json.next_cursor).toBeNull();
    expect(res.json.data.map((e: { action: string }) => e.action)).toEqual(["pause", "register"]);
    expect(res.json.data.every((e: { job_name: string }) => e.job_name === job)).toBe(true);
    const [pause] = res.json.data;
    expect(pause).toEqual({
      audit_id: expect.stringMatching(/^audit-\d+$/),
      at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      action: "pause",
      job_name: job,
      actor: UNNAMED_KEY_LABEL,
      request_id: expect.any(String),
      client_request_id: null,
      source_ip: "203.0.113.7",
      user_agent: "audit-test/1.0",
      before: expect.objectContaining({ is_active: true }),
      after: { is_active: false },
    });
    for (const token of TOKENS) expect(res.text).not.toContain(token);
  });

  it("pages by cursor: every row once, in order, until next_cursor is null", async () => {
    const job = uniqueName("paged");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    for (const retries of [1, 2, 3, 4]) {
      expect((await call("PATCH", `/jobs/${job}`, { body: { max_retries: retries } })).status).toBe(200);
    }
    const seen: { audit_id: string; action: string; after: { max_retries?: number } | null }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call("GET", `/audit?job_name=${job}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.json.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.json.data);
      cursor = res.json.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen.map((e) => (e.action === "register" ? "register" : e.after?.max_retries))).toEqual([4, 3, 2, 1, "register"]);
    const ids = seen.map((e) => Number(e.audit_id.slice("audit-".length)));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(5);

    // The default page is 20; limit 1 gives exactly one row and a cursor.
    const one = await call("GET", `/audit?job_name=${job}&limit=1`);
    expect(one.json.data).toHaveLength(1);
    expect(one.json.next_cursor).toBe(one.json.data[0].audit_id);
  });

  it("validates limit and cursor: 400, never clamped", async () => {
    for (const query of ["limit=0", "limit=-1", "limit=101", "limit=1.5", "limit=abc", "limit=1e2", "cursor=audit-", "cursor=12", "job_name=Bad_Name", "jobname=x"]) {
      const res = await call("GET", `/audit?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error.code, query).toBe("validation_error");
      expect(res.json.error.message, query).toMatch(/limit|cursor|job_name|jobname/);
    }
    expect((await call("GET", "/audit?limit=100")).status).toBe(200);
    expect((await call("GET", "/audit?limit=1")).json.data).toHaveLength(1);
  });
});
