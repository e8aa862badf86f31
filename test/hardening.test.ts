import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { call, registerJob, TOKEN, uniqueName } from "./helpers/api";
import { freezeClock } from "./helpers/clock";
import { auditRows, dbSnapshot, jobRow } from "./helpers/db-snapshot";
import { settled } from "./helpers/scheduler";
import { callWith } from "./helpers/call-with";

/** Issue 14, "Leaks": each case here fails on the code before the fix. */

beforeEach(() => freezeClock());

async function addFailedRun(jobName: string, error: string, status = "failed") {
  const job = await jobRow(jobName);
  const at = new Date().toISOString();
  await env.DB.prepare(
    `INSERT INTO runs (job_id, job_name, triggered_by, dry_run, status, attempts, started_at, completed_at, duration_ms, error)
     VALUES (?, ?, 'scheduler', 0, ?, 1, ?, ?, 5, ?)`,
  )
    .bind(job!.job_id, jobName, status, at, at, error)
    .run();
}

describe("nothing derived from a secret in public reads", () => {
  it("a run triggered with the unnamed token and no triggered_by is attributed to \"api\", not to a token fingerprint", async () => {
    const job = uniqueName("no-fp");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    expect((await call("POST", `/jobs/${job}/trigger`, { body: {} })).status).toBe(202);
    await settled(job);
    const runs = await call("GET", `/jobs/${job}/runs`, { token: null });
    const last = await call("GET", `/jobs/${job}/last-result`, { token: null });
    expect(runs.json.data[0].triggered_by).toBe("api");
    expect(last.json.triggered_by).toBe("api");
    for (const text of [runs.text, last.text, (await call("GET", `/jobs/${job}`, { token: null })).text]) expect(text).not.toMatch(/token:[0-9a-f]/);
    expect((await auditRows(job)).every((row) => row.actor === "api")).toBe(true);
  });
});

describe("a failed run's raw error is not public", () => {
  const RAW = "D1_ERROR: no such column: mentors.secret_email at offset 42";

  it("public reads get a stable code and a safe message; a request with a key also gets error_detail", async () => {
    const job = uniqueName("raw-error");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    await addFailedRun(job, RAW);
    const publicRuns = await call("GET", `/jobs/${job}/runs`, { token: null });
    const publicLast = await call("GET", `/jobs/${job}/last-result`, { token: null });
    for (const res of [publicRuns, publicLast]) {
      expect(res.text).not.toContain("secret_email");
      expect(res.text).not.toContain('"error_detail"');
    }
    expect(publicLast.json.error).toEqual({ code: "handler_failed", message: expect.stringContaining("handler failed") });
    expect(publicRuns.json.data[0].error.code).toBe("handler_failed");
    // A wrong token is ignored on a public read: still the public answer.
    expect((await call("GET", `/jobs/${job}/last-result`, { token: "wrong" })).text).not.toContain("secret_email");

    const keyed = await call("GET", `/jobs/${job}/last-result`, { token: "test-key-read" });
    expect(keyed.json).toMatchObject({ error: { code: "handler_failed" }, error_detail: RAW });
    expect((await call("GET", `/jobs/${job}/runs`, { token: TOKEN })).json.data[0].error_detail).toBe(RAW);
  });

  it("timeouts and skipped instants have their own codes", async () => {
    const job = uniqueName("codes");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    await addFailedRun(job, "timed out: attempt 1 did not complete within timeout_seconds=5 (the handler hung)");
    await addFailedRun(job, 'missed 3 scheduled instant(s), the latest 300s ago; misfire_policy is "skip"', "skipped");
    const runs = (await call("GET", `/jobs/${job}/runs`, { token: null })).json.data;
    expect(runs.map((r: { error: { code: string } }) => r.error.code)).toEqual(["skipped_misfire", "timed_out"]);
  });
});

describe("REQUIRE_AUTH_FOR_READS is parsed strictly", () => {
  for (const value of ["TRUE", "True", " true "]) {
    it(`"${value}" locks reads`, async () => {
      expect((await callWith({ REQUIRE_AUTH_FOR_READS: value }, "GET", "/jobs")).status).toBe(401);
      expect((await callWith({ REQUIRE_AUTH_FOR_READS: value }, "GET", "/jobs", { token: "test-key-read" })).status).toBe(200);
    });
  }

  for (const value of ["false", "FALSE", "False"]) {
    it(`"${value}" leaves reads public, and /health has nothing to say about it`, async () => {
      expect((await callWith({ REQUIRE_AUTH_FOR_READS: value }, "GET", "/jobs")).status).toBe(200);
      expect((await callWith({ REQUIRE_AUTH_FOR_READS: value }, "GET", "/health")).json.settings).toEqual([]);
    });
  }

  for (const value of ["yes", "1", "on", ""]) {
    it(`"${value}" fails closed, and /health names the setting`, async () => {
      expect((await callWith({ REQUIRE_AUTH_FOR_READS: value }, "GET", "/jobs")).status).toBe(401);
      const health = await callWith({ REQUIRE_AUTH_FOR_READS: value }, "GET", "/health");
      expect(health.status).toBe(503);
      expect(health.json.settings).toEqual([{ setting: "REQUIRE_AUTH_FOR_READS", message: expect.stringContaining("fail closed") }]);
      expect(health.json.problems.join("\n")).toContain("REQUIRE_AUTH_FOR_READS");
    });
  }
});

describe("request ids", () => {
  it("the audit stores the server's id; a client's X-Request-Id is kept apart, only if short and plain", async () => {
    const job = uniqueName("reqid");
    const forged = await call("POST", "/jobs", {
      headers: { "x-request-id": "trace-abc_123:7" },
      body: { job_name: job, cron_expression: "0 3 * * *", handler: "testNoop" },
    });
    expect(forged.status).toBe(201);
    const serverId = forged.headers.get("x-request-id")!;
    expect(serverId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    for (const bad of ["x".repeat(65), "has space", "<script>", "ünïcode"]) {
      expect((await call("PATCH", `/jobs/${job}`, { headers: { "x-request-id": bad }, body: { max_retries: 1 } })).status).toBe(200);
    }
    const rows = await auditRows(job);
    expect(rows[0]).toMatchObject({ request_id: serverId, client_request_id: "trace-abc_123:7" });
    expect(rows.slice(1).map((r) => r.client_request_id)).toEqual([null, null, null, null]);
    const audit = await call("GET", `/audit?job_name=${job}&limit=100`);
    expect(audit.json.data.at(-1)).toMatchObject({ request_id: serverId, client_request_id: "trace-abc_123:7" });
  });
});

describe("CORS from CORS_ORIGINS", () => {
  const preflight = (origin: string, method: string) => ({
    origin,
    "access-control-request-method": method,
    "access-control-request-headers": "authorization, content-type",
  });

  it("by default allows no other origin to make changes (preflight without Allow-Origin; a change with a foreign Origin is 403)", async () => {
    const job = uniqueName("cors");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    const pre = await call("OPTIONS", `/jobs/${job}`, { token: null, headers: preflight("https://evil.example", "PATCH") });
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const before = await dbSnapshot();
    const res = await call("PATCH", `/jobs/${job}`, { headers: { origin: "https://evil.example" }, body: { is_active: false } });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe("origin_not_allowed");
    expect(await dbSnapshot()).toEqual(before);
    // Reads stay readable from anywhere; the same origin may change.
    expect((await call("GET", "/jobs", { token: null, headers: { origin: "https://evil.example" } })).headers.get("access-control-allow-origin")).toBe("*");
    expect((await call("PATCH", `/jobs/${job}`, { headers: { origin: "https://scheduler.test" }, body: { is_active: false } })).status).toBe(200);
  });

  it("allows the listed origins", async () => {
    const job = uniqueName("cors-ok");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    const allowed = { CORS_ORIGINS: "https://ops.example.org, https://other.example" };
    const pre = await callWith(allowed, "OPTIONS", `/jobs/${job}`, { headers: preflight("https://ops.example.org", "PATCH") });
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://ops.example.org");
    const res = await callWith(allowed, "PATCH", `/jobs/${job}`, { token: TOKEN, headers: { origin: "https://ops.example.org" }, body: { is_active: false } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://ops.example.org");
  });
});

describe("/docs and the dashboard", () => {
  it("/docs loads Swagger UI from this origin only, under a CSP that forbids other origins", async () => {
    const res = await exports.default.fetch(new Request("https://scheduler.test/docs"));
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>(?!<)/); // no inline script
    expect(html).toContain('<script src="/docs/swagger-ui/swagger-ui-bundle.js">');
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/unsafe-eval|https?:|\*/);
  });

  it("the Swagger UI files are served from Static Assets, the pinned version", async () => {
    // Through the ASSETS binding: in production these paths are not in run_worker_first, so assets answer them first.
    const bundle = await env.ASSETS!.fetch(new Request("https://scheduler.test/docs/swagger-ui/swagger-ui-bundle.js"));
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toMatch(/javascript/);
    expect(await bundle.text()).toContain("SwaggerUIBundle");
    const init = await env.ASSETS!.fetch(new Request("https://scheduler.test/docs/init.js"));
    expect(await init.text()).toContain("validatorUrl: null");
  });

  it("the dashboard has the same CSP and no inline script or style", async () => {
    const job = uniqueName("csp");
    expect((await registerJob(job, { handler: "testNoop" })).status).toBe(201);
    for (const path of ["/", `/jobs/${job}`]) {
      const res = await exports.default.fetch(new Request(`https://scheduler.test${path}`));
      const html = await res.text();
      expect(res.headers.get("content-security-policy"), path).toContain("script-src 'self'");
      expect(html, path).not.toMatch(/<script>|<style/);
    }
    const js = await exports.default.fetch(new Request("https://scheduler.test/dashboard.js"));
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect(await js.text()).toContain("sessionStorage");
  });

  it("API answers carry a CSP that allows nothing to render", async () => {
    const res = await call("GET", "/jobs");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
  });
});
