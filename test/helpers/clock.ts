import { afterEach } from "vitest";
import { clock } from "../../src/lib/clock";

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

/**
 * Holds the service's next waits (clock.sleep) open until `release()`, then
 * lets each move the frozen clock by its length. The object polls a flag: a
 * promise made in the test could not be settled from inside the object.
 */
export function holdSleeps(): { readonly entered: boolean; readonly released: boolean; release(): void } {
  const tick = clock.sleep;
  const state = { entered: false, released: false };
  clock.sleep = async (ms: number) => {
    state.entered = true;
    while (!state.released) await new Promise((resolve) => setTimeout(resolve, 5));
    await tick(ms);
  };
  return {
    get entered() {
      return state.entered;
    },
    get released() {
      return state.released;
    },
    release: () => {
      state.released = true;
    },
  };
}

afterEach(() => {
  clock.now = realNow;
  clock.sleep = realSleep;
  frozenAt = null;
});
