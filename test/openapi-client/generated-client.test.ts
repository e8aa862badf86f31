import { exports } from "cloudflare:workers";
import createClient from "openapi-fetch";
import { describe, expect, expectTypeOf, it, vi } from "vitest";
import { TOKEN, uniqueName } from "../helpers/api";
// Generated from the served document by scripts/openapi-check.mjs (npm test), never by hand:
// this file is type-checked against it there, and run here (the import is types only).
import type { components, paths, webhooks } from "./scheduler-api";

/**
 * Issue 16: a client generated from GET /api/v1/scheduler/openapi.json with
 * openapi-typescript, used through openapi-fetch, as a user in another codebase would.
 * The contract's five calls plus a PATCH with If-Match, against the Worker.
 */
const client = createClient<paths>({
  baseUrl: "https://scheduler.test",
  fetch: (request) => exports.default.fetch(request),
});
const auth = { headers: { authorization: `Bearer ${TOKEN}` } };

describe("a client generated from the OpenAPI document (openapi-typescript + openapi-fetch)", () => {
  it("runs the contract's five calls and a PATCH with If-Match", async () => {
    // 1. List jobs (public).
    const list = await client.GET("/api/v1/scheduler/jobs", { params: { query: { page: 1, limit: 100 } } });
    expect(list.response.status).toBe(200);
    expectTypeOf(list.data!.pagination.total).toEqualTypeOf<number>();
    expect(list.data!.data.map((job) => job.job_name)).toContain("certification-expiry-nightly");

    // 2. Register, with the contract's body under a name of its own.
    const name = uniqueName("generated-client");
    const registered = await client.POST("/api/v1/scheduler/jobs", {
      body: { job_name: name, cron_expression: "0 8 * * 1", handler: "generateWeeklyExpiryReport", is_active: true },
      ...auth,
    });
    expect(registered.response.status).toBe(201);
    expect(registered.data).toMatchObject({ job_name: name, cron_expression: "0 8 * * 1", is_active: true, version: 1 });
    const etag = registered.response.headers.get("etag")!;
    expect(etag).toBe('"1"');
    const read = await client.GET("/api/v1/scheduler/jobs/{jobName}", { params: { path: { jobName: name } } });
    expect(read.data?.upcoming_runs).toHaveLength(5);
    expect(read.response.headers.get("etag")).toBe(etag);

    // A PATCH with If-Match: the version read changes the job; the same version again is stale (412).
    const patched = await client.PATCH("/api/v1/scheduler/jobs/{jobName}", {
      params: { path: { jobName: name }, header: { "if-match": etag } },
      body: { cron_expression: "0 9 * * 1" },
      ...auth,
    });
    expect(patched.response.status).toBe(200);
    expect(patched.data).toMatchObject({ cron_expression: "0 9 * * 1", version: 2 });
    expect(patched.response.headers.get("etag")).toBe('"2"');
    const stale = await client.PATCH("/api/v1/scheduler/jobs/{jobName}", {
      params: { path: { jobName: name }, header: { "if-match": etag } },
      body: { cron_expression: "0 10 * * 1" },
      ...auth,
    });
    expect(stale.response.status).toBe(412);
    expectTypeOf(stale.error).toEqualTypeOf<components["schemas"]["Error"] | undefined>();
    expect(stale.error!.error.code).toBe("precondition_failed");
    expect(stale.response.headers.get("etag")).toBe('"2"');

    // 3. Trigger (a dry run), 4. the last result: that run.
    const triggered = await client.POST("/api/v1/scheduler/jobs/{jobName}/trigger", {
      params: { path: { jobName: name } },
      body: { triggered_by: "coordinator-007", dry_run: true },
      ...auth,
    });
    expect(triggered.response.status).toBe(202);
    expectTypeOf(triggered.data!.status).toEqualTypeOf<"running">();
    // The run goes on after the 202; the last result shows it running, then done.
    const last = await vi.waitFor(
      async () => {
        const answer = await client.GET("/api/v1/scheduler/jobs/{jobName}/last-result", { params: { path: { jobName: name } } });
        if (answer.data?.status !== "success") throw new Error(`last-result: ${answer.response.status} ${answer.data?.status}`);
        return answer;
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(last.data).toMatchObject({ job_name: name, run_id: triggered.data!.run_id, status: "success", dry_run: true, triggered_by: "coordinator-007" });

    // 5. Delete; then the job is gone, and the 404 is typed as the error shape.
    const deleted = await client.DELETE("/api/v1/scheduler/jobs/{jobName}", { params: { path: { jobName: name }, header: {} }, ...auth });
    expect(deleted.response.status).toBe(200);
    expectTypeOf(deleted.data!.deleted).toEqualTypeOf<true>();
    expect(deleted.data).toMatchObject({ deleted: true, job_name: name });
    const gone = await client.GET("/api/v1/scheduler/jobs/{jobName}", { params: { path: { jobName: name } } });
    expect(gone.response.status).toBe(404);
    expect(gone.error!.error.code).toBe("job_not_found");
  });

  it("refuses, at compile time, what the document does not allow", () => {
    // Checked by tsc only (scripts/openapi-check.mjs); at run time nothing is sent.
    const never = () => {
      // @ts-expect-error a trigger needs the job's name
      void client.POST("/api/v1/scheduler/jobs/{jobName}/trigger", { body: { dry_run: true } });
      // @ts-expect-error registering needs a handler
      void client.POST("/api/v1/scheduler/jobs", { body: { job_name: "x", cron_expression: "0 2 * * *" } });
    };
    expect(typeof never).toBe("function");
  });

  it("types each webhook a receiver gets, from the document's webhooks section", () => {
    type Body<T extends keyof webhooks> = NonNullable<webhooks[T]["post"]["requestBody"]>["content"]["application/json"];
    expectTypeOf<Body<"cert_expiry_reminder">["data"]["window_days"]>().toEqualTypeOf<1 | 7 | 30>();
    expectTypeOf<Body<"mentor_paused">["type"]>().toEqualTypeOf<"mentor_paused">();
    expectTypeOf<Body<"weekly_expiry_report">["data"]["report_id"]>().toEqualTypeOf<number>();
    expectTypeOf<Body<"job.alert.opened">["data"]["kind"]>().toEqualTypeOf<"missed" | "late" | "failing" | "paused_by_policy">();
    expectTypeOf<Body<"job.alert.resolved">["data"]["resolved_at"]>().toEqualTypeOf<string | null>();
    type Headers = webhooks["pause_lifted"]["post"]["parameters"]["header"];
    expectTypeOf<keyof Headers>().toEqualTypeOf<"webhook-id" | "webhook-timestamp" | "webhook-signature">();
    expect(true).toBe(true);
  });
});
