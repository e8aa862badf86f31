import { beforeEach, describe, expect, it } from "vitest";
import { certificationExpiryHandler } from "../src/handlers/certification-expiry";
import { pruneRunSteps, RUN_STEPS_KEPT_DAYS } from "../src/services/run-steps-retention";
import { addMentor, at, ctx, DB, db, resetPlatform } from "./helpers/platform-fixtures";

const NOW = new Date("2031-05-01T02:00:00.000Z");
const DAY = 86_400_000;

beforeEach(resetPlatform);

async function ledger(): Promise<{ run_id: string; step_no: number; done: number }[]> {
  return (await DB.prepare("SELECT run_id, step_no, done FROM run_steps ORDER BY run_id, step_no").all<{ run_id: string; step_no: number; done: number }>())
    .results;
}

describe("the step ledger's retention", () => {
  it("a finished run keeps one row; rows older than the retention go, newer ones stay", async () => {
    for (let i = 0; i < 5; i++) await addMentor(`rt-${i}`, { certs: [{ id: `rt-${i}-c`, expiresAt: at(NOW, { days: 3 }) }] });
    const handler = certificationExpiryHandler(2);
    const c = ctx(NOW, { runId: "run-0100" });
    await handler.step(c);
    await handler.step(c);
    expect((await ledger()).map((r) => r.step_no)).toEqual([1, 2]); // unfinished: every step so far
    await handler.step(c);
    expect(await ledger()).toEqual([{ run_id: "run-0100", step_no: 3, done: 1 }]);
    await handler.step(ctx(NOW, { runId: "run-0101" })); // an abandoned run: one step, never finished

    // The rows carry the clock's time; move them back rather than wait.
    await DB.prepare("UPDATE run_steps SET committed_at = ? WHERE run_id = 'run-0100'")
      .bind(new Date(NOW.getTime() - (RUN_STEPS_KEPT_DAYS + 1) * DAY).toISOString())
      .run();
    await DB.prepare("UPDATE run_steps SET committed_at = ? WHERE run_id = 'run-0101'")
      .bind(new Date(NOW.getTime() - (RUN_STEPS_KEPT_DAYS - 1) * DAY).toISOString())
      .run();
    expect(await pruneRunSteps(db(), NOW)).toBe(1);
    expect((await ledger()).map((r) => r.run_id)).toEqual(["run-0101"]);
  });
});
