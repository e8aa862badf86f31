import { exports } from "cloudflare:workers";
import { hc } from "hono/client";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { AppType } from "../src/index";
import { TOKEN, uniqueName } from "./helpers/api";

// Hono's typed client over the app's exported type, sending through the Worker's own fetch.
// Most of this file is checked by `tsc --noEmit` (part of `npm test`); the calls also run.
const client = hc<AppType>("https://scheduler.test", {
  fetch: (input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(new Request(input, init)),
});
const api = client.api.v1.scheduler;
const auth = { headers: { authorization: `Bearer ${TOKEN}` } };

describe("hc<AppType> (hono/client)", () => {
  it("lists jobs with typed query and typed JSON", async () => {
    const response = await api.jobs.$get({ query: {} });
    expect(response.status).toBe(200);
    if (response.status !== 200) return;
    const body = await response.json();
    expectTypeOf(body.pagination.total).toEqualTypeOf<number>();
    expectTypeOf(body.data[0]!.last_run_status).toEqualTypeOf<"running" | "success" | "failed" | null>();
    expect(body.data.map((job) => job.job_name)).toContain("certification-expiry-nightly");
    expect(body.pagination).toMatchObject({ page: 1, limit: 20 });
  });

  it("registers, triggers and deletes with typed params, bodies and statuses", async () => {
    const name = uniqueName("client");
    const created = await api.jobs.$post({ json: { job_name: name, cron_expression: "0 3 * * *", handler: "checkCertificationExpiry" } }, auth);
    expect(created.status).toBe(201);
    if (created.status === 201) expectTypeOf((await created.json()).next_run_at).toEqualTypeOf<string | null>();

    const triggered = await api.jobs[":jobName"].trigger.$post({ param: { jobName: name }, json: { dry_run: true } }, auth);
    expect(triggered.status).toBe(202);
    if (triggered.status === 202) {
      const run = await triggered.json();
      expectTypeOf(run.status).toEqualTypeOf<"running">();
      expect(run.run_id).toMatch(/^run-\d{4,}$/);
    }

    // Error statuses are typed too: the 404's body is the error shape.
    const missing = await api.jobs[":jobName"]["last-result"].$get({ param: { jobName: "no-such-job" } });
    expect(missing.status).toBe(404);
    if (missing.status === 404) expect((await missing.json()).error.code).toBe("job_not_found");

    const deleted = await api.jobs[":jobName"].$delete({ param: { jobName: name }, header: {} }, auth);
    expect(deleted.status).toBe(200);
    if (deleted.status === 200) expectTypeOf((await deleted.json()).deleted).toEqualTypeOf<true>();
  });

  it("types the health check, both answers", async () => {
    const response = await api.health.$get();
    expect([200, 503]).toContain(response.status);
    expectTypeOf((await response.json()).status).toEqualTypeOf<"ok" | "failing">();
  });

  it("types the notifications and reports reads (issue 12)", async () => {
    const list = await api.notifications.$get({ query: { status: "dead", limit: "5" } }, auth);
    expect(list.status).toBe(200);
    if (list.status === 200) {
      const body = await list.json();
      expectTypeOf<(typeof body.data)[number]["status"]>().toEqualTypeOf<"pending" | "sending" | "sent" | "failed" | "dead">();
    }
    const retry = await api.notifications[":id"].retry.$post({ param: { id: "999999999" } }, auth);
    expect(retry.status).toBe(404);
    const reports = await api.reports.$get({ query: {} }, auth);
    expect(reports.status).toBe(200);
    if (reports.status === 200) expectTypeOf((await reports.json()).next_cursor).toEqualTypeOf<string | null>();
  });

  it("refuses wrong input at compile time", () => {
    // Never called: these lines only have to fail to type-check.
    const typeOnly = () => {
      // @ts-expect-error job_name must be a string
      void api.jobs.$post({ json: { job_name: 1, cron_expression: "0 3 * * *", handler: "x" } });
      // @ts-expect-error the path parameter is required
      void api.jobs[":jobName"].$get({ param: {} });
      // @ts-expect-error no such route
      void api.nope.$get();
    };
    expect(typeof typeOnly).toBe("function");
  });
});
