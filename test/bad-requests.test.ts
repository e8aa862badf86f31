import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { BASE, call, registerJob, TOKEN, uniqueName } from "./helpers/api";
import { freezeClock } from "./helpers/clock";
import { dbSnapshot } from "./helpers/db-snapshot";
import { settled } from "./helpers/scheduler";

/**
 * Issue 4, "Input rules": every bad request is refused with a 4xx JSON error
 * whose message names the problem, and D1 is exactly as it was before.
 */

const ALIAS = "https://scheduler.test/api/v1/scheduler/api/v1/scheduler";
const JSON_TYPE = { "content-type": "application/json" };

/** A registered job the cases aim at (PATCH, DELETE, trigger ...); it must survive them all. */
const JOB = uniqueName("target");
/** A valid name that is never registered. */
const GHOST = uniqueName("ghost");
const VALID = { job_name: uniqueName("never-stored"), cron_expression: "0 2 * * *", handler: "checkCertificationExpiry" };
const create = (fields: Record<string, unknown>) => ({ ...VALID, ...fields });

interface Case {
  name: string;
  method: string;
  /** Path under the base; `{job}` becomes JOB. */
  path: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  /** Also sent through the contract's doubled prefix. */
  alias?: boolean;
  status: number;
  /** Every one must match error.message. */
  says: RegExp[];
}

const big = (bytes: number) => JSON.stringify({ triggered_by: "x".repeat(bytes) });

const CASES: Case[] = [
  // ---- content type and body ----
  { name: "POST /jobs text/plain", method: "POST", path: "/jobs", rawBody: JSON.stringify(VALID), headers: { "content-type": "text/plain" }, status: 415, says: [/Content-Type: application\/json/] },
  { name: "POST /jobs form-urlencoded", method: "POST", path: "/jobs", rawBody: "job_name=a", headers: { "content-type": "application/x-www-form-urlencoded" }, status: 415, says: [/must be JSON/], alias: true },
  { name: "POST /jobs application/jsonx", method: "POST", path: "/jobs", rawBody: JSON.stringify(VALID), headers: { "content-type": "application/jsonx" }, status: 415, says: [/must be JSON/] },
  { name: "POST /jobs malformed JSON", method: "POST", path: "/jobs", rawBody: '{"job_name": "a",', headers: JSON_TYPE, status: 400, says: [/not valid JSON/], alias: true },
  { name: "POST /jobs empty JSON body", method: "POST", path: "/jobs", rawBody: "", headers: JSON_TYPE, status: 400, says: [/not valid JSON/] },
  { name: "POST /jobs body is an array", method: "POST", path: "/jobs", body: [VALID], status: 400, says: [/body must be a JSON object/, /array/] },
  { name: "POST /jobs body is a string", method: "POST", path: "/jobs", body: "register please", status: 400, says: [/JSON object/, /string/] },
  { name: "POST /jobs body is null", method: "POST", path: "/jobs", rawBody: "null", headers: JSON_TYPE, status: 400, says: [/JSON object/, /null/] },
  { name: "POST /jobs body is a number", method: "POST", path: "/jobs", rawBody: "42", headers: JSON_TYPE, status: 400, says: [/JSON object/, /number/] },
  { name: "POST /jobs body over 16 KiB", method: "POST", path: "/jobs", rawBody: JSON.stringify(create({ pad: "x".repeat(17_000) })), headers: JSON_TYPE, status: 413, says: [/16 KiB/], alias: true },
  { name: "PATCH text/plain", method: "PATCH", path: "/jobs/{job}", rawBody: '{"is_active":false}', headers: { "content-type": "text/plain" }, status: 415, says: [/must be JSON/] },
  { name: "PATCH malformed JSON", method: "PATCH", path: "/jobs/{job}", rawBody: "{is_active:false}", headers: JSON_TYPE, status: 400, says: [/not valid JSON/] },
  { name: "PATCH body is an array", method: "PATCH", path: "/jobs/{job}", body: [{ is_active: false }], status: 400, says: [/JSON object/, /array/] },
  { name: "PATCH body over 16 KiB", method: "PATCH", path: "/jobs/{job}", rawBody: JSON.stringify({ cron_expression: " ".repeat(17_000) }), headers: JSON_TYPE, status: 413, says: [/16 KiB/] },
  { name: "trigger text/plain", method: "POST", path: "/jobs/{job}/trigger", rawBody: "{}", headers: { "content-type": "text/plain" }, status: 415, says: [/must be JSON/], alias: true },
  { name: "trigger malformed JSON", method: "POST", path: "/jobs/{job}/trigger", rawBody: '{"dry_run":tru}', headers: JSON_TYPE, status: 400, says: [/not valid JSON/] },
  { name: "trigger body is an array", method: "POST", path: "/jobs/{job}/trigger", body: [], status: 400, says: [/JSON object/, /array/] },
  { name: "trigger body is a string", method: "POST", path: "/jobs/{job}/trigger", body: "now", status: 400, says: [/JSON object/, /string/] },
  { name: "trigger body is null", method: "POST", path: "/jobs/{job}/trigger", rawBody: "null", headers: JSON_TYPE, status: 400, says: [/JSON object/, /null/] },
  { name: "trigger body over 16 KiB", method: "POST", path: "/jobs/{job}/trigger", rawBody: big(16 * 1024), headers: JSON_TYPE, status: 413, says: [/16 KiB/] },

  // ---- unknown fields and wrong types (no coercion) ----
  { name: "unknown field handlr", method: "POST", path: "/jobs", body: { job_name: VALID.job_name, cron_expression: "0 2 * * *", handlr: "checkCertificationExpiry" }, status: 400, says: [/unknown field: handlr/, /handler/], alias: true },
  { name: "two unknown fields", method: "POST", path: "/jobs", body: create({ cron: "x", active: true }), status: 400, says: [/unknown fields: cron, active/] },
  { name: 'is_active "false"', method: "POST", path: "/jobs", body: create({ is_active: "false" }), status: 400, says: [/is_active/, /boolean/] },
  { name: "is_active 1", method: "POST", path: "/jobs", body: create({ is_active: 1 }), status: 400, says: [/is_active/, /boolean/] },
  { name: "job_name a number", method: "POST", path: "/jobs", body: create({ job_name: 12345 }), status: 400, says: [/job_name/, /string/] },
  { name: "cron_expression an array", method: "POST", path: "/jobs", body: create({ cron_expression: ["0", "2", "*", "*", "*"] }), status: 400, says: [/cron_expression/, /string/] },
  { name: 'max_retries "1"', method: "POST", path: "/jobs", body: create({ max_retries: "1" }), status: 400, says: [/max_retries/, /number/] },
  { name: "timeout_seconds 1.5", method: "POST", path: "/jobs", body: create({ timeout_seconds: 1.5 }), status: 400, says: [/timeout_seconds/, /int/] },
  { name: "overlap_policy not an option", method: "POST", path: "/jobs", body: create({ overlap_policy: "sometimes" }), status: 400, says: [/overlap_policy/, /skip/] },
  { name: "missing handler", method: "POST", path: "/jobs", body: { job_name: VALID.job_name, cron_expression: "0 2 * * *" }, status: 400, says: [/handler/] },

  // ---- job_name ----
  { name: "job_name upper case", method: "POST", path: "/jobs", body: create({ job_name: "Nightly-Report" }), status: 400, says: [/job_name must be 1-64 characters/] },
  { name: "job_name with a space", method: "POST", path: "/jobs", body: create({ job_name: "nightly report" }), status: 400, says: [/job_name must be/] },
  { name: "job_name 65 characters", method: "POST", path: "/jobs", body: create({ job_name: "a".repeat(65) }), status: 400, says: [/job_name must be 1-64/] },
  { name: "job_name leading '-'", method: "POST", path: "/jobs", body: create({ job_name: "-nightly" }), status: 400, says: [/job_name must be/, /starting and ending/] },
  { name: "job_name trailing '-'", method: "POST", path: "/jobs", body: create({ job_name: "nightly-" }), status: 400, says: [/job_name must be/] },
  { name: "job_name unicode", method: "POST", path: "/jobs", body: create({ job_name: "jöb-ñame" }), status: 400, says: [/job_name must be/], alias: true },
  { name: "job_name empty", method: "POST", path: "/jobs", body: create({ job_name: "" }), status: 400, says: [/job_name/] },
  { name: "job_name underscore", method: "POST", path: "/jobs", body: create({ job_name: "nightly_report" }), status: 400, says: [/job_name must be/] },

  // ---- :jobName in paths ----
  { name: "GET /jobs/%2F", method: "GET", path: "/jobs/%2F", status: 400, says: [/jobName/, /job_name must be/], alias: true },
  { name: "GET /jobs/%2E%2E (a dot segment: no route)", method: "GET", path: "/jobs/%2E%2E", status: 404, says: [/No route/] },
  { name: "GET /jobs/%00", method: "GET", path: "/jobs/%00", status: 400, says: [/jobName/] },
  { name: "GET /jobs/%0A/runs", method: "GET", path: "/jobs/%0A/runs", status: 400, says: [/jobName/] },
  { name: "DELETE {job}%2F..%2F{job}", method: "DELETE", path: "/jobs/{job}%2F..%2F{job}", status: 400, says: [/jobName/], alias: true },
  { name: "PATCH %2E%2E%2F{job}", method: "PATCH", path: "/jobs/%2E%2E%2F{job}", body: { is_active: false }, status: 400, says: [/jobName/] },
  { name: "trigger {job}%0A", method: "POST", path: "/jobs/{job}%0A/trigger", body: {}, status: 400, says: [/jobName/] },
  { name: "trigger upper-case name", method: "POST", path: "/jobs/NIGHTLY/trigger", body: {}, status: 400, says: [/jobName/, /lower-case/] },
  { name: "last-result unicode name", method: "GET", path: "/jobs/%C3%A9t%C3%A9/last-result", status: 400, says: [/jobName/] },
  { name: "runs for a 65-character name", method: "GET", path: `/jobs/${"a".repeat(65)}/runs`, status: 400, says: [/1-64/] },
  { name: "DELETE a name with a leading '-'", method: "DELETE", path: "/jobs/-nightly", status: 400, says: [/jobName/] },
  { name: "GET a name with bad percent-encoding", method: "GET", path: "/jobs/%E0%A4%A", status: 400, says: [/jobName/] },

  // ---- cron_expression ----
  { name: "cron with 4 fields", method: "POST", path: "/jobs", body: create({ cron_expression: "0 2 * *" }), status: 400, says: [/5 fields/, /got 4/] },
  { name: "cron with 6 fields", method: "POST", path: "/jobs", body: create({ cron_expression: "0 0 2 * * *" }), status: 400, says: [/5 fields/, /got 6/], alias: true },
  { name: "cron minute 60", method: "POST", path: "/jobs", body: create({ cron_expression: "60 2 * * *" }), status: 400, says: [/minute field "60"/] },
  { name: "cron hour 24", method: "POST", path: "/jobs", body: create({ cron_expression: "0 24 * * *" }), status: 400, says: [/hour field "24"/] },
  { name: "cron day-of-month 32", method: "POST", path: "/jobs", body: create({ cron_expression: "0 2 32 * *" }), status: 400, says: [/day-of-month field "32"/] },
  { name: "cron day-of-month 0", method: "POST", path: "/jobs", body: create({ cron_expression: "0 2 0 * *" }), status: 400, says: [/day-of-month field "0"/] },
  { name: "cron month 13", method: "POST", path: "/jobs", body: create({ cron_expression: "0 2 * 13 *" }), status: 400, says: [/month field "13"/] },
  { name: "cron day-of-week 8", method: "POST", path: "/jobs", body: create({ cron_expression: "0 2 * * 8" }), status: 400, says: [/day-of-week field "8"/] },
  { name: "cron minute step 0", method: "POST", path: "/jobs", body: create({ cron_expression: "*/0 * * * *" }), status: 400, says: [/minute field "\*\/0"/, /stepping/] },
  { name: "cron hour step 0", method: "POST", path: "/jobs", body: create({ cron_expression: "0 */0 * * *" }), status: 400, says: [/hour field/] },
  { name: "cron reversed hour range", method: "POST", path: "/jobs", body: create({ cron_expression: "0 5-1 * * *" }), status: 400, says: [/hour field "5-1"/, /larger/] },
  { name: "cron reversed weekday range", method: "POST", path: "/jobs", body: create({ cron_expression: "0 2 * * FRI-MON" }), status: 400, says: [/day-of-week field "FRI-MON"/] },
  { name: "cron garbage words", method: "POST", path: "/jobs", body: create({ cron_expression: "every day at noon please" }), status: 400, says: [/minute field "every"/] },
  { name: "cron garbage month name", method: "POST", path: "/jobs", body: create({ cron_expression: "0 2 * FOO *" }), status: 400, says: [/month field "FOO"/] },
  { name: "cron never fires (Feb 30)", method: "POST", path: "/jobs", body: create({ cron_expression: "0 0 30 2 *" }), status: 400, says: [/never fires/], alias: true },
  { name: "cron never fires (Apr 31)", method: "POST", path: "/jobs", body: create({ cron_expression: "0 0 31 4 *" }), status: 400, says: [/never fires/] },
  { name: "cron over 100 characters", method: "POST", path: "/jobs", body: create({ cron_expression: `0 2 * * ${"1,".repeat(50)}1` }), status: 400, says: [/cron_expression/, /100/] },
  { name: "cron empty", method: "POST", path: "/jobs", body: create({ cron_expression: "" }), status: 400, says: [/cron_expression/] },
  { name: "cron unknown macro", method: "POST", path: "/jobs", body: create({ cron_expression: "@reboot" }), status: 400, says: [/macro "@reboot"/, /@daily/] },
  { name: "PATCH cron step 0", method: "PATCH", path: "/jobs/{job}", body: { cron_expression: "0 0 */0 * *" }, status: 400, says: [/day-of-month field/] },
  { name: "PATCH cron never fires", method: "PATCH", path: "/jobs/{job}", body: { cron_expression: "0 0 30 2 *" }, status: 400, says: [/never fires/] },

  // ---- handler ----
  { name: "handler not registered", method: "POST", path: "/jobs", body: create({ handler: "sendAllTheMail" }), status: 422, says: [/"sendAllTheMail" is not registered/, /known handlers: .*checkCertificationExpiry/] },
  { name: "handler constructor", method: "POST", path: "/jobs", body: create({ handler: "constructor" }), status: 422, says: [/"constructor"/, /known handlers/], alias: true },
  { name: "handler __proto__", method: "POST", path: "/jobs", body: create({ handler: "__proto__" }), status: 422, says: [/"__proto__"/, /known handlers/] },
  { name: "handler toString", method: "POST", path: "/jobs", body: create({ handler: "toString" }), status: 422, says: [/"toString"/, /known handlers/] },
  { name: "handler hasOwnProperty", method: "POST", path: "/jobs", body: create({ handler: "hasOwnProperty" }), status: 422, says: [/"hasOwnProperty"/, /known handlers/] },
  { name: "PATCH handler constructor", method: "PATCH", path: "/jobs/{job}", body: { handler: "constructor" }, status: 422, says: [/"constructor"/, /known handlers/] },

  // ---- trigger body ----
  { name: "triggered_by empty", method: "POST", path: "/jobs/{job}/trigger", body: { triggered_by: "" }, status: 400, says: [/triggered_by/, />=1/] },
  { name: "triggered_by 129 characters", method: "POST", path: "/jobs/{job}/trigger", body: { triggered_by: "x".repeat(129) }, status: 400, says: [/triggered_by/, /<=128/], alias: true },
  { name: "triggered_by a number", method: "POST", path: "/jobs/{job}/trigger", body: { triggered_by: 7 }, status: 400, says: [/triggered_by/, /string/] },
  { name: "triggered_by null", method: "POST", path: "/jobs/{job}/trigger", body: { triggered_by: null }, status: 400, says: [/triggered_by/] },
  { name: 'dry_run "true"', method: "POST", path: "/jobs/{job}/trigger", body: { dry_run: "true" }, status: 400, says: [/dry_run/, /boolean/] },
  { name: "trigger unknown field dryrun", method: "POST", path: "/jobs/{job}/trigger", body: { dryrun: true }, status: 400, says: [/unknown field: dryrun/] },

  // ---- page and limit: refused, never clamped ----
  { name: "page=0", method: "GET", path: "/jobs?page=0", status: 400, says: [/page must be at least 1/] },
  { name: "page=-1", method: "GET", path: "/jobs?page=-1", status: 400, says: [/page must be a whole number/] },
  { name: "page=abc", method: "GET", path: "/jobs?page=abc", status: 400, says: [/page must be a whole number/], alias: true },
  { name: "page=1.5", method: "GET", path: "/jobs?page=1.5", status: 400, says: [/page/] },
  { name: "page=1e3", method: "GET", path: "/jobs?page=1e3", status: 400, says: [/page/] },
  { name: "page absurdly large", method: "GET", path: "/jobs?page=99999999999999999999", status: 400, says: [/page/] },
  { name: "page given twice", method: "GET", path: "/jobs?page=1&page=2", status: 400, says: [/page/] },
  { name: "limit=0", method: "GET", path: "/jobs?limit=0", status: 400, says: [/limit must be at least 1/] },
  { name: "limit=101", method: "GET", path: "/jobs?limit=101", status: 400, says: [/limit must be at most 100/] },
  { name: "limit=2.5", method: "GET", path: "/jobs?limit=2.5", status: 400, says: [/limit/] },
  { name: "limit=-20", method: "GET", path: "/jobs?limit=-20", status: 400, says: [/limit/] },
  { name: "unknown query parameter", method: "GET", path: "/jobs?pgae=2", status: 400, says: [/unknown field: pgae/] },
  { name: "runs limit=0", method: "GET", path: "/jobs/{job}/runs?limit=0", status: 400, says: [/limit/] },
  { name: "runs limit=1e3", method: "GET", path: "/jobs/{job}/runs?limit=1e3", status: 400, says: [/limit/], alias: true },
  { name: "runs cursor garbage", method: "GET", path: "/jobs/{job}/runs?cursor=yesterday", status: 400, says: [/cursor/] },
  { name: "audit limit=0", method: "GET", path: "/audit?limit=0", status: 400, says: [/limit must be at least 1/] },
  { name: "audit limit=101", method: "GET", path: "/audit?limit=101", status: 400, says: [/limit must be at most 100/] },
  { name: "audit limit=ten", method: "GET", path: "/audit?limit=ten", status: 400, says: [/limit must be a whole number/], alias: true },
  { name: "audit cursor garbage", method: "GET", path: "/audit?cursor=run-0001", status: 400, says: [/cursor/] },
  { name: "audit job_name upper case", method: "GET", path: "/audit?job_name=NIGHTLY", status: 400, says: [/job_name must be/] },

  // ---- PATCH ----
  { name: "PATCH empty body {}", method: "PATCH", path: "/jobs/{job}", body: {}, status: 400, says: [/patch is empty/, /cron_expression/] },
  { name: "PATCH job_name", method: "PATCH", path: "/jobs/{job}", body: { job_name: "renamed-job" }, status: 400, says: [/job_name cannot be changed/], alias: true },
  { name: "PATCH job_name equal to the current one", method: "PATCH", path: "/jobs/{job}", body: { job_name: JOB, is_active: false }, status: 400, says: [/job_name cannot be changed/] },
  { name: 'PATCH is_active "false"', method: "PATCH", path: "/jobs/{job}", body: { is_active: "false" }, status: 400, says: [/is_active/, /boolean/] },
  { name: "PATCH unknown field", method: "PATCH", path: "/jobs/{job}", body: { handlr: "liftExpiredPauses" }, status: 400, says: [/unknown field: handlr/] },
  { name: "PATCH unknown timezone", method: "PATCH", path: "/jobs/{job}", body: { timezone: "Mars/Olympus_Mons" }, status: 400, says: [/timezone "Mars\/Olympus_Mons"/] },

  // ---- time zone ----
  { name: "POST unknown timezone", method: "POST", path: "/jobs", body: create({ timezone: "Europe/Atlantis" }), status: 400, says: [/timezone "Europe\/Atlantis"/, /IANA/], alias: true },
  { name: "POST timezone empty", method: "POST", path: "/jobs", body: create({ timezone: "" }), status: 400, says: [/timezone/] },
  { name: "POST timezone a number", method: "POST", path: "/jobs", body: create({ timezone: 1 }), status: 400, says: [/timezone/] },

  // ---- unknown jobs, conflicts, routes and methods ----
  { name: "GET an unknown job", method: "GET", path: `/jobs/${GHOST}`, status: 404, says: [new RegExp(`No job named "${GHOST}"`)], alias: true },
  { name: "PATCH an unknown job", method: "PATCH", path: `/jobs/${GHOST}`, body: { is_active: false }, status: 404, says: [/No job named/] },
  { name: "DELETE an unknown job", method: "DELETE", path: `/jobs/${GHOST}`, status: 404, says: [/No job named/] },
  { name: "trigger an unknown job", method: "POST", path: `/jobs/${GHOST}/trigger`, body: {}, status: 404, says: [/No job named/] },
  { name: "runs of an unknown job", method: "GET", path: `/jobs/${GHOST}/runs`, status: 404, says: [/No job named/] },
  { name: "last-result before any run", method: "GET", path: "/jobs/{job}/last-result", status: 404, says: [/has not run yet/] },
  { name: "register a name that exists", method: "POST", path: "/jobs", body: create({ job_name: JOB }), status: 409, says: [/already registered/] },
  { name: "unknown route", method: "GET", path: "/jobz", status: 404, says: [/No route for GET/] },
  { name: "method not allowed (PUT a job)", method: "PUT", path: "/jobs/{job}", body: { is_active: false }, status: 404, says: [/No route for PUT/] },
  { name: "method not allowed (DELETE the list)", method: "DELETE", path: "/jobs", status: 404, says: [/No route for DELETE/], alias: true },
];

const expanded = CASES.flatMap((c) => [c, ...(c.alias ? [{ ...c, name: `${c.name} (doubled prefix)`, base: ALIAS }] : [])]) as (Case & {
  base?: string;
})[];

beforeAll(async () => {
  const res = await registerJob(JOB, { is_active: true });
  expect(res.status).toBe(201);
});
// No job (nor a built-in one at 02:00 or 06:00 UTC) comes due between two snapshots.
beforeEach(() => freezeClock());

describe("the snapshot itself", () => {
  it("sees an insert, an update and a run, so 'unchanged' means something", async () => {
    const name = uniqueName("snap");
    const s0 = await dbSnapshot();
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    const s1 = await dbSnapshot();
    expect(s1).toMatchObject({ jobs: s0.jobs + 1, job_count: s0.job_count + 1, audit: s0.audit + 1 });
    expect((await call("PATCH", `/jobs/${name}`, { body: { max_retries: 2 } })).status).toBe(200);
    const s2 = await dbSnapshot();
    expect(s2.jobs_digest).not.toBe(s1.jobs_digest);
    expect((await call("POST", `/jobs/${name}/trigger`, { body: { dry_run: true } })).status).toBe(202);
    await settled(name);
    const s3 = await dbSnapshot();
    expect(s3).toMatchObject({ runs: s2.runs + 1, max_run_seq: expect.any(Number), audit: s2.audit + 1 });
    expect(s3.max_run_seq).toBeGreaterThan(s2.max_run_seq);
  });
});

describe("bad requests: 4xx JSON naming the problem, D1 unchanged", () => {
  it("has at least 40 cases on every endpoint", () => {
    expect(expanded.length).toBeGreaterThanOrEqual(40);
    const endpoints = new Set(CASES.map((c) => `${c.method} ${c.path.replace(/\?.*/, "").replace(/\/jobs\/[^/]+/, "/jobs/:jobName")}`));
    for (const endpoint of [
      "GET /jobs",
      "POST /jobs",
      "GET /jobs/:jobName",
      "PATCH /jobs/:jobName",
      "DELETE /jobs/:jobName",
      "POST /jobs/:jobName/trigger",
      "GET /jobs/:jobName/last-result",
      "GET /jobs/:jobName/runs",
      "GET /audit",
    ]) {
      expect(endpoints, endpoint).toContain(endpoint);
    }
  });

  for (const c of expanded) {
    it(`${c.name} → ${c.status}`, async () => {
      const before = await dbSnapshot();
      const path = c.path.replaceAll("{job}", JOB);
      const res = await call(c.method, `${c.base ?? BASE}${path}`, { body: c.body, rawBody: c.rawBody, headers: c.headers });
      expect(res.status, res.text).toBe(c.status);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.json).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
      for (const pattern of c.says) expect(res.json.error.message).toMatch(pattern);
      expect(await dbSnapshot()).toEqual(before);
    });
  }

  it("the target job is still registered as it was after every case", async () => {
    const res = await call("GET", `/jobs/${JOB}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ job_name: JOB, cron_expression: "0 2 * * *", handler: "checkCertificationExpiry", is_active: true, timezone: "UTC" });
  });
});

describe("413 without reading the whole body", () => {
  /** A body that would be 1 MiB, produced lazily: counts what the app actually pulls. */
  function lazyBody(totalBytes: number, chunkBytes = 1024) {
    const state = { pulled: 0 };
    const chunk = new TextEncoder().encode("x".repeat(chunkBytes));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (state.pulled >= totalBytes) return controller.close();
        state.pulled += chunk.length;
        controller.enqueue(chunk);
      },
    });
    return { stream, state };
  }

  async function send(request: Request) {
    const ctx = createExecutionContext();
    const response = await worker.fetch(request, env, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }

  it("refuses a declared Content-Length over 16 KiB before reading any of it", async () => {
    const before = await dbSnapshot();
    const { stream, state } = lazyBody(1024 * 1024);
    const res = await send(
      new Request(`${BASE}/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", "content-length": String(1024 * 1024) },
        body: stream,
      }),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.message).toMatch(/16 KiB/);
    // The stream's first pull may happen when the Request is built; nothing past that.
    expect(state.pulled).toBeLessThanOrEqual(1024);
    expect(await dbSnapshot()).toEqual(before);
  });

  it("stops reading a streamed body of unknown length just past 16 KiB", async () => {
    const before = await dbSnapshot();
    const { stream, state } = lazyBody(1024 * 1024);
    const res = await send(
      new Request(`${BASE}/jobs/${JOB}/trigger`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: stream,
      }),
    );
    expect(res.status).toBe(413);
    expect(state.pulled).toBeGreaterThan(16 * 1024);
    expect(state.pulled).toBeLessThan(64 * 1024);
    expect(await dbSnapshot()).toEqual(before);
  });

  it("accepts a body of exactly 16 KiB (the limit is inclusive)", async () => {
    // A valid trigger body padded with whitespace to exactly 16384 bytes: the limit refuses only what is larger.
    const json = JSON.stringify({ dry_run: true, triggered_by: "limit-test" });
    const rawBody = json + " ".repeat(16 * 1024 - json.length);
    const name = uniqueName("limit");
    expect((await registerJob(name, { is_active: false, handler: "testNoop" })).status).toBe(201);
    const res = await call("POST", `/jobs/${name}/trigger`, { rawBody, headers: JSON_TYPE });
    expect(res.status, res.text).toBe(202);
    expect(await settled(name)).toMatchObject([{ status: "success", triggered_by: "limit-test", dry_run: 1 }]);
  });
});

describe("never a server error", () => {
  it("turns an unexpected error into a 500 JSON with the request id, details only in the log", async () => {
    const secret = "D1_INTERNAL_DETAIL_7f3a";
    const brokenDb = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare" || prop === "batch") {
          return () => {
            throw new Error(secret);
          };
        }
        return Reflect.get(target, prop, target);
      },
    });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const ctx = createExecutionContext();
      const res = await worker.fetch(new Request(`${BASE}/jobs`), { ...env, DB: brokenDb }, ctx);
      await waitOnExecutionContext(ctx);
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const body = JSON.parse(text);
      const requestId = res.headers.get("x-request-id");
      expect(requestId).toBeTruthy();
      expect(body).toEqual({ error: { code: "internal_error", message: expect.stringMatching(/request id/), request_id: requestId } });
      expect(text).not.toContain(secret);
      const lines = logged.mock.calls.map((args) => args.map(String).join(" "));
      expect(lines.some((line) => line.includes(secret) && line.includes(requestId!))).toBe(true);
    } finally {
      logged.mockRestore();
    }
  });

  it("answers an unknown route with 404 JSON, inside and outside the API base", async () => {
    for (const url of [`${BASE}/nothing-here`, "https://scheduler.test/definitely/not/here", "https://scheduler.test/api/v2/scheduler/jobs"]) {
      const res = await call("GET", url);
      expect(res.status, url).toBe(404);
      expect(res.json.error.code, url).toBe("not_found");
    }
  });
});

describe("headers on every response", () => {
  it("sets the security headers and X-Request-Id on success and on errors", async () => {
    const responses = [
      await call("GET", "/jobs"),
      await call("GET", "/jobs?page=0"),
      await call("POST", "/jobs", { body: {}, token: null }),
      await call("GET", "https://scheduler.test/nowhere"),
    ];
    for (const res of responses) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
    const ids = responses.map((res) => res.headers.get("x-request-id"));
    expect(new Set(ids).size).toBe(ids.length);
  });

  // Issue 14: the id is always the server's own (a client's is kept apart in the audit, see hardening.test.ts).
  it("answers with the server's own X-Request-Id, never a caller's, and never echoes a hostile one", async () => {
    const given = await call("GET", "/jobs", { headers: { "x-request-id": "trace-abc-123" } });
    expect(given.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await call("GET", "/jobs", { headers: { "x-request-id": "<script>alert(1)</script>" } });
    expect(hostile.headers.get("x-request-id")).not.toContain("<script>");
  });
});
