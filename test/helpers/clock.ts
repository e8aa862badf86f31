import { afterEach } from "vitest";
import { clock } from "../../src/lib/clock";

const realNow = clock.now;
const realSleep = clock.sleep;
let frozenAt: number | null = null;

/**
 * Freezes the service's clock (src/lib/clock.ts) for this test file's isolate,
 * where the Worker and its Durable Objects run too. A real alarm that fires
 * meanwhile sees the frozen time, so nothing becomes due unless a test moves it.
 * A wait in the service (clock.sleep) moves the frozen clock by its length at once.
 */
export function freezeClock(at: number = Date.now()): void {
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
