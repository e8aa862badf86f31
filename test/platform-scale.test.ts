import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { createDb } from "../src/db/client";
import { importCertifications, importMentors, MAX_ROWS } from "../src/services/platform-import";
import { call } from "./helpers/api";
import { resetPlatform } from "./helpers/platform-fixtures";
import { inspect, runsOf } from "./helpers/scheduler";

// A fresh deployment fed through the import API only: 10,000 mentors and their
// certifications in batches of 1,000, then the nightly check over them.

const DAY = 86_400_000;
const NIGHTLY = "certification-expiry-nightly";
const MENTORS = 10_000;

/** Days from now for each certification: far from every boundary (0, 1, 7, 30 days), so the seconds the test takes do not matter. */
const OFFSETS = [-40, -2, 0.5, 3, 12, 20, 45, 400];

function generate(now: number) {
  const mentors = Array.from({ length: MENTORS }, (_, i) => ({
    mentor_id: `scale-${String(i).padStart(5, "0")}`,
    name: `Mentor ${i}`,
    email: `mentor${i}@example.org`,
    status: (i % 10 === 9 ? "paused" : "active") as "active" | "paused",
  }));
  // 0, 1 or 2 certifications per mentor, spread over the offsets.
  const certifications = mentors.flatMap((m, i) =>
    Array.from({ length: i % 3 }, (_, k) => ({
      certification_id: `${m.mentor_id}-c${k}`,
      mentor_id: m.mentor_id,
      name: `Certification ${k}`,
      expires_at: new Date(now + OFFSETS[(i * 7 + k * 3) % OFFSETS.length]! * DAY).toISOString(),
    })),
  );
  return { mentors, certifications };
}

/** What the nightly check must report for this data, worked out from the data itself. */
function expectedSummary(data: ReturnType<typeof generate>, now: number) {
  const active = new Set(data.mentors.filter((m) => m.status === "active").map((m) => m.mentor_id));
  const ofActive = data.certifications.filter((c) => active.has(c.mentor_id));
  const left = (c: { expires_at: string }) => Date.parse(c.expires_at) - now;
  const expired = ofActive.filter((c) => left(c) <= 0);
  return {
    mentors_checked: active.size,
    expired_found: expired.length,
    auto_paused: new Set(expired.map((c) => c.mentor_id)).size,
    reminders_sent: ofActive.filter((c) => left(c) > 0 && left(c) <= 30 * DAY).length,
    errors: 0,
  };
}

const batches = <T,>(rows: T[]) => Array.from({ length: Math.ceil(rows.length / MAX_ROWS) }, (_, i) => rows.slice(i * MAX_ROWS, (i + 1) * MAX_ROWS));

async function nightlyRun() {
  const before = (await runsOf(NIGHTLY)).length;
  const res = await call("POST", `/jobs/${NIGHTLY}/trigger`, { body: { triggered_by: "platform-scale-test" } });
  expect(res.status).toBe(202);
  await vi.waitFor(
    async () => {
      if ((await inspect(NIGHTLY)).running.length > 0) throw new Error("still running");
      const runs = await runsOf(NIGHTLY);
      if (runs.length === before || runs.some((r) => r.status === "running")) throw new Error("not recorded yet");
    },
    { timeout: 25_000, interval: 20 },
  );
  const last = await call("GET", `/jobs/${NIGHTLY}/last-result`);
  expect(last.json).toMatchObject({ run_id: res.json.run_id, status: "success" });
  return last.json.result_summary;
}

describe("import at scale, then the nightly check", () => {
  it("an empty platform: /health warns from day one and the nightly run says mentors_checked: 0", async () => {
    await resetPlatform();
    const health = await call("GET", "/health", { token: null });
    expect(health.status).toBe(200); // the service itself is fine: not a 503
    expect(health.json.status).toBe("ok");
    expect(health.json.platform).toEqual({
      status: "warning",
      active_mentors: 0,
      message: expect.stringMatching(/^0 active mentors: the nightly certification check has nothing to check; import them/),
    });
    expect(await nightlyRun()).toEqual({ mentors_checked: 0, expired_found: 0, auto_paused: 0, reminders_sent: 0, errors: 0 });
  });

  it("10,000 mentors and their certifications in batches of 1,000 through the API, then the right summary", async () => {
    await resetPlatform();
    const now = Date.now();
    const data = generate(now);
    const mentorBatches = batches(data.mentors);
    expect(mentorBatches).toHaveLength(10);
    for (const batch of mentorBatches) {
      const res = await call("PUT", "/platform/mentors", { body: { mentors: batch } });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ rows: batch.length, created: batch.length, updated: 0 });
    }
    for (const batch of batches(data.certifications)) {
      const res = await call("PUT", "/platform/certifications", { body: { certifications: batch } });
      expect(res.status).toBe(200);
    }
    const counts = await env.DB.prepare(
      "SELECT (SELECT count(*) FROM mentors) AS mentors, (SELECT count(*) FROM certifications) AS certifications",
    ).first();
    expect(counts).toEqual({ mentors: MENTORS, certifications: data.certifications.length });

    const health = await call("GET", "/health", { token: null });
    expect(health.json.platform).toEqual({ status: "ok", active_mentors: 9_000 });

    const expected = expectedSummary(data, now);
    expect(expected.expired_found).toBeGreaterThan(0);
    expect(expected.reminders_sent).toBeGreaterThan(0);
    expect(await nightlyRun()).toEqual(expected);
    const paused = await env.DB.prepare("SELECT count(*) AS n FROM pauses WHERE reason = 'certification_expired' AND lifted_at IS NULL").first("n");
    expect(paused).toBe(expected.auto_paused);
  });

  it("every statement of a full batch stays within production D1's limits (100 bound parameters, 100 KB statement, 1 MB value)", async () => {
    await resetPlatform();
    const seen: { sql: number; params: number; largestValue: number }[] = [];
    const checked = new Proxy(env.DB, {
      get(target, key) {
        if (key !== "prepare") return Reflect.get(target, key, target);
        return (query: string) => {
          const statement = target.prepare(query);
          return new Proxy(statement, {
            get(st, k) {
              if (k !== "bind") return Reflect.get(st, k, st);
              return (...values: unknown[]) => {
                const largestValue = Math.max(0, ...values.map((v) => new TextEncoder().encode(String(v)).length));
                seen.push({ sql: new TextEncoder().encode(query).length, params: values.length, largestValue });
                return st.bind(...values);
              };
            },
          });
        };
      },
    }) as D1Database;
    const db = createDb(checked);
    const actor = { label: "limits-test" };
    // The largest rows the schema allows, in 4-byte characters where text is free.
    const wide = "𝄞".repeat(100); // 100 code points, 200 UTF-16 units: within the 200-character limit, 400 bytes
    const mentors = Array.from({ length: MAX_ROWS }, (_, i) => ({
      mentor_id: `${"m".repeat(120)}${String(i).padStart(4, "0")}`,
      name: wide,
      email: `${"e".repeat(230)}${i}@example.org`.slice(-254),
      status: "active" as const,
    }));
    await importMentors(db, mentors, actor);
    const certifications = mentors.map((m, i) => ({
      certification_id: `${"c".repeat(120)}${String(i).padStart(4, "0")}`,
      mentor_id: m.mentor_id,
      name: wide,
      expires_at: "2031-01-01T00:00:00.000Z",
    }));
    await importCertifications(db, certifications, actor);
    await (await import("../src/services/platform-import")).deleteMentors(db, mentors.map((m) => m.mentor_id), actor);
    expect(seen.length).toBeGreaterThan(5);
    for (const s of seen) {
      expect(s.params).toBeLessThanOrEqual(100);
      expect(s.sql).toBeLessThanOrEqual(100_000);
      expect(s.largestValue).toBeLessThanOrEqual(1_000_000);
    }
    expect(await env.DB.prepare("SELECT count(*) AS n FROM mentors").first("n")).toBe(0);
  });
});
