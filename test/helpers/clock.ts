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

afterEach(() => {
  clock.now = realNow;
  clock.sleep = realSleep;
  frozenAt = null;
});
