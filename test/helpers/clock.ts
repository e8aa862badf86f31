import { afterEach } from "vitest";
import { clock } from "../../src/lib/clock";
import { hold, type Hold } from "./hold";

const realNow = clock.now;
const realSleep = clock.sleep;
let frozenAt: number | null = null;

/**
 * Where frozen clocks start: years after any real run of the suite, so every
 * alarm the service sets from the frozen clock lies in the real future and
 * never fires by itself. Tests fire alarms (fireAlarm), and only those run.
 * (Frozen at the real time, a job's real alarm came due whenever the real
 * clock crossed an instant minus FIRE_LEAD_MS during a test, and its wait
 * moved the test's frozen clock.) Mid-hour, mid-minute, no DST change near.
 */
export const FROZEN_START = Date.parse("2031-06-11T10:20:17.250Z");

/**
 * Freezes the service's clock (src/lib/clock.ts) for this test file's isolate,
 * where the Worker and its Durable Objects run too. A wait in the service
 * (clock.sleep) moves the frozen clock by its length at once.
 */
export function freezeClock(at: number = FROZEN_START): void {
  frozenAt = at;
  clock.now = () => new Date(frozenAt!);
  clock.sleep = async (ms: number) => {
    if (frozenAt !== null) frozenAt += ms;
  };
}

/** Moves the frozen clock forward. */
export function advanceClock(ms: number): number {
  if (frozenAt === null) throw new Error("freezeClock() first");
  frozenAt += ms;
  return frozenAt;
}

export function setClock(at: number): void {
  if (frozenAt === null) throw new Error("freezeClock() first");
  frozenAt = at;
}

/** Holds the service's next waits (clock.sleep) open until `release()`, then lets each move the frozen clock by its length. */
export function holdSleeps(): Hold {
  const tick = clock.sleep;
  const gate = hold();
  clock.sleep = async (ms: number) => {
    await gate.wait();
    await tick(ms);
  };
  return gate;
}

afterEach(() => {
  clock.now = realNow;
  clock.sleep = realSleep;
  frozenAt = null;
});
