import fc from "fast-check";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, registerJob, uniqueName } from "./helpers/api";
import { freezeClock } from "./helpers/clock";
import { dbSnapshot, jobRow } from "./helpers/db-snapshot";
import { settled } from "./helpers/scheduler";

/**
 * Issue 4: random bodies for POST /jobs and POST /jobs/:jobName/trigger never
 * produce a 5xx, and a 4xx never changes D1.
 *
 * The clock is frozen so that no job registered here (nor a built-in one)
 * comes due mid-property: a scheduled run landing between two snapshots would
 * look like a change made by the request.
 */

beforeEach(() => freezeClock());

const NUM_RUNS = 150;

const KNOWN_HANDLERS = ["checkCertificationExpiry", "liftExpiredPauses", "generateWeeklyExpiryReport", "testNoop"];
const CRON_TOKENS = ["*", "0", "5", "30", "*/2", "*/0", "1-5", "5-1", "60", "24", "32", "13", "JAN", "MON", "FRI-MON", "L", "?", "1#2", "W", ",", "-", "/", "@daily", "x"];

const anyJson = fc.jsonValue({ maxDepth: 3 });

/** A value that is sometimes right for the field and often wrong in an interesting way. */
const fieldValues = {
  job_name: fc.oneof(
    fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}[a-z0-9]$/).map((s) => `pbt-${s}`),
    fc.constantFrom("", "-lead", "UPPER", "a".repeat(65), "jöb", "a b", "a/b", "..", "certification-expiry-nightly"),
    anyJson,
  ),
  cron_expression: fc.oneof(
    fc.constantFrom("0 2 * * *", "15 3 * * 1-5", "@weekly", "0 0 29 2 *", "0 0 30 2 *", "*/0 * * * *", "0 24 * * *", "@reboot", "", " "),
    fc.array(fc.constantFrom(...CRON_TOKENS), { minLength: 1, maxLength: 7 }).map((parts) => parts.join(" ")),
    fc.string({ maxLength: 120 }),
    anyJson,
  ),
  handler: fc.oneof(fc.constantFrom(...KNOWN_HANDLERS, "constructor", "__proto__", "toString", "hasOwnProperty", "nope", ""), anyJson),
  is_active: fc.oneof(fc.boolean(), fc.constantFrom("true", "false", 0, 1, null)),
  timezone: fc.oneof(fc.constantFrom("UTC", "Europe/Berlin", "Asia/Kolkata", "Etc/GMT+5", "Mars/Base", "", "utc", "+05:00"), fc.string({ maxLength: 70 })),
  overlap_policy: fc.oneof(fc.constantFrom("skip", "allow", "never", ""), anyJson),
  misfire_policy: fc.oneof(fc.constantFrom("run_once", "skip", "all"), anyJson),
  catchup_window_seconds: fc.oneof(fc.integer({ min: -10, max: 40_000_000 }), fc.double(), fc.constantFrom("60")),
  max_retries: fc.oneof(fc.integer({ min: -2, max: 12 }), fc.constantFrom(1.5, "1", null)),
  timeout_seconds: fc.oneof(fc.integer({ min: -1, max: 90_000 }), fc.constantFrom(0.5, "300", true)),
};

const unknownKeys = fc.dictionary(
  fc.oneof(fc.constantFrom("handlr", "cron", "jobName", "__proto__", "constructor", "job_name ", "dry_run"), fc.string({ maxLength: 12 })),
  anyJson,
  { maxKeys: 2 },
);

const mixedRegistration = fc
  .tuple(fc.record(fieldValues, { requiredKeys: [] }), fc.option(unknownKeys, { freq: 3 }))
  .map(([fields, extra]) => ({ ...(extra ?? {}), ...fields }));

/** Mostly-valid registrations, so that 2xx answers happen too (a wrong value or two mixed in). */
const nearlyValidRegistration = fc
  .record({
    job_name: fc.stringMatching(/^[a-z0-9]{1,10}$/).map((s) => `pbt-ok-${s}`),
    cron_expression: fc.constantFrom("0 2 * * *", "15 3 * * 1-5", "@weekly", "0 0 30 2 *", "0 */0 * * *"),
    handler: fc.constantFrom("testNoop", "generateWeeklyExpiryReport", "constructor"),
    is_active: fc.oneof(fc.boolean(), fc.constant("false")),
  })
  .chain((body) => fc.option(unknownKeys, { freq: 4 }).map((extra) => ({ ...(extra ?? {}), ...body })));

const triggerBody = fc.oneof(
  fc.record(
    {
      triggered_by: fc.oneof(fc.string({ minLength: 1, maxLength: 128 }), fc.constantFrom("", "x".repeat(129)), anyJson),
      dry_run: fc.oneof(fc.boolean(), fc.constantFrom("true", 1, null)),
    },
    { requiredKeys: [] },
  ),
  fc.tuple(fc.record({ dry_run: fc.boolean() }, { requiredKeys: [] }), unknownKeys).map(([body, extra]) => ({ ...extra, ...body })),
);

/** What is sent: a JSON value, or raw text that is usually not JSON at all. */
type Sent = { json: unknown } | { raw: string };
const asJson = (arb: fc.Arbitrary<unknown>) => arb.map((json): Sent => ({ json }));
const rawText = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("{", "[1,", '{"a":}', "nul", "'x'", "\u0000")).map((raw): Sent => ({ raw }));

async function send(method: string, path: string, sent: Sent) {
  return "raw" in sent
    ? call(method, path, { rawBody: sent.raw, headers: { "content-type": "application/json" } })
    : call(method, path, { rawBody: JSON.stringify(sent.json), headers: { "content-type": "application/json" } });
}

function expectErrorShape(res: Awaited<ReturnType<typeof call>>) {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.json).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
  expect(res.json.error.message.length).toBeGreaterThan(0);
}

/** The statuses a property's requests were answered with, each checked as it comes. */
function answers() {
  const statuses = new Set<number>();
  return {
    /** Never a 5xx; a 4xx has the error shape and changed nothing since `before`; anything else goes to `accepted`. */
    async check(res: Awaited<ReturnType<typeof call>>, before: Awaited<ReturnType<typeof dbSnapshot>>, accepted: () => Promise<void>) {
      statuses.add(res.status);
      expect(res.status, res.text).toBeLessThan(500);
      if (res.status >= 400) {
        expectErrorShape(res);
        expect(await dbSnapshot()).toEqual(before);
      } else {
        await accepted();
      }
    },
    /** The generators reached both sides: refusals and `success` (a property that is never 2xx proves less). */
    expectBothSides(success: number) {
      expect([...statuses].some((s) => s >= 400)).toBe(true);
      expect([...statuses]).toContain(success);
    },
  };
}

describe("property: random bodies", () => {
  it("POST /jobs: never a 5xx; a 4xx changes nothing; a 201 registers exactly that job", async () => {
    const outcomes = answers();
    const body = fc.oneof(
      { arbitrary: asJson(anyJson), weight: 2 },
      { arbitrary: asJson(mixedRegistration), weight: 4 },
      { arbitrary: asJson(nearlyValidRegistration), weight: 3 },
      { arbitrary: rawText, weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(body, async (sent) => {
        const before = await dbSnapshot();
        const res = await send("POST", "/jobs", sent);
        await outcomes.check(res, before, async () => {
          expect(res.status).toBe(201);
          const name = (sent as { json: { job_name: string } }).json.job_name;
          expect(res.json.job_name).toBe(name);
          expect(await jobRow(name)).not.toBeNull();
          const after = await dbSnapshot();
          expect(after.jobs).toBe(before.jobs + 1);
          expect(after.audit).toBe(before.audit + 1);
          expect(after.runs).toBe(before.runs);
        });
      }),
      // One body known to be valid runs first, so that reaching a 201 never rests on the generators' odds
      // (about 7 valid bodies are expected in 150; a run with none was seen once).
      { numRuns: NUM_RUNS, examples: [[{ json: { job_name: uniqueName("pbt-ok"), cron_expression: "0 2 * * *", handler: "testNoop" } }]] },
    );
    outcomes.expectBothSides(201);
  });

  describe("POST /jobs/:jobName/trigger", () => {
    // Three targets, so no job nears the supervisor's run-history limit (it prunes past 100 per job).
    const jobs = [uniqueName("pbt-trigger-a"), uniqueName("pbt-trigger-b"), uniqueName("pbt-trigger-c")];
    beforeAll(async () => {
      for (const [i, job] of jobs.entries()) {
        // One of them refuses overlapping runs, so a 409 can come up too.
        const overlap_policy = i === 0 ? "skip" : "allow";
        expect((await registerJob(job, { handler: "testNoop", is_active: false, overlap_policy })).status).toBe(201);
      }
    });

    it("never a 5xx; a 4xx changes nothing; a 202 records one run", async () => {
      const outcomes = answers();
      const body = fc.oneof({ arbitrary: asJson(anyJson), weight: 2 }, { arbitrary: asJson(triggerBody), weight: 5 }, { arbitrary: rawText, weight: 1 });
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...jobs), body, async (job, sent) => {
          const before = await dbSnapshot();
          const res = await send("POST", `/jobs/${job}/trigger`, sent);
          await outcomes.check(res, before, async () => {
            expect(res.status).toBe(202);
            expect(res.json).toMatchObject({ job_name: job, status: "running", run_id: expect.stringMatching(/^run-\d{4,}$/) });
            const after = await dbSnapshot();
            expect(after.runs).toBe(before.runs + 1);
            expect(after.audit).toBe(before.audit + 1);
            expect(after.jobs_digest).toBe(before.jobs_digest);
          });
        }),
        { numRuns: NUM_RUNS },
      );
      outcomes.expectBothSides(202);
      // Let the runs this started finish before the file ends.
      for (const job of jobs) {
        const runs = await settled(job);
        expect(runs.every((r) => r.status === "success")).toBe(true);
      }
    });
  });
});
