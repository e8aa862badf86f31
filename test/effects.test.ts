import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { clock } from "../src/lib/clock";
import { call, registerJob, uniqueName } from "./helpers/api";
import { freezeClock } from "./helpers/clock";
import { addMentor, at, resetPlatform } from "./helpers/platform-fixtures";
import { fireAlarm, minuteFloor, runsOf, setNext, settled } from "./helpers/scheduler";

beforeEach(async () => {
  freezeClock();
  await resetPlatform();
});

const count = async (table: string) => (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())!.n;

describe("exactly-once effects on an at-least-once platform", () => {
  it("a repeated alarm for the same instant repeats no pause and no reminder; manual runs add none either", async () => {
    const now = clock.now();
    await addMentor("m-expired", { certs: [{ id: "c-expired", expiresAt: at(now, { days: -1 }) }] });
    await addMentor("m-soon", { certs: [{ id: "c-soon", expiresAt: at(now, { days: 5 }) }] });
    const name = uniqueName("cert-nightly");
    await registerJob(name, { cron_expression: "* * * * *", handler: "checkCertificationExpiry", overlap_policy: "allow" });

    const due = minuteFloor(now.getTime());
    await setNext(name, due);
    await fireAlarm(name);
    const [first] = await settled(name);
    expect(JSON.parse(first!.result_summary!)).toEqual({ mentors_checked: 2, expired_found: 1, auto_paused: 1, reminders_sent: 1, errors: 0 });

    // The platform delivers the same alarm again (retry, or restart mid-run).
    await setNext(name, due);
    await fireAlarm(name);
    expect(await runsOf(name)).toHaveLength(1);

    // An operator runs it by hand the same day: nothing new to do.
    const manual = await call("POST", `/jobs/${name}/trigger`, { body: { triggered_by: "coordinator-007" } });
    expect(manual.status).toBe(202);
    await settled(name);
    const last = await call("GET", `/jobs/${name}/last-result`);
    expect(last.json.result_summary).toEqual({ mentors_checked: 1, expired_found: 0, auto_paused: 0, reminders_sent: 0, errors: 0 });
    expect(await count("pauses")).toBe(1);
    expect(await count("notification_outbox")).toBe(2); // the reminder and the mentor_paused notice
  });

  it("a dry run trigger previews exactly what the real run then does, and changes nothing", async () => {
    const now = clock.now();
    await addMentor("m-a", { certs: [{ id: "c-a", expiresAt: at(now, { days: -3 }) }] });
    await addMentor("m-b", { certs: [{ id: "c-b", expiresAt: at(now, { days: 20 }) }] });
    const name = uniqueName("cert-dry");
    await registerJob(name, { handler: "checkCertificationExpiry" });

    await call("POST", `/jobs/${name}/trigger`, { body: { dry_run: true } });
    await settled(name);
    const preview = (await call("GET", `/jobs/${name}/last-result`)).json;
    expect(preview.dry_run).toBe(true);
    expect(await count("pauses")).toBe(0);
    expect(await count("notification_outbox")).toBe(0);
    expect((await env.DB.prepare("SELECT status FROM mentors WHERE mentor_id = 'm-a'").first<{ status: string }>())!.status).toBe("active");

    await call("POST", `/jobs/${name}/trigger`, { body: {} });
    await settled(name);
    const real = (await call("GET", `/jobs/${name}/last-result`)).json;
    expect(real.dry_run).toBeUndefined();
    expect(real.result_summary).toEqual(preview.result_summary);
    expect(await count("pauses")).toBe(1);
    expect(await count("notification_outbox")).toBe(2); // the reminder and the mentor_paused notice
  });
});
