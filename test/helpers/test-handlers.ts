import { handlerRegistry, oneStep } from "../../src/handlers";

/**
 * Handlers that exist only in tests, in a registry of their own beside the
 * built-ins: the test Worker's JobScheduler runs it (test/worker.ts). The
 * job's Durable Object runs in the same isolate as the tests, so a test can
 * hold a run open (gate) or make it fail on purpose.
 */

const gates = new Map<string, { promise: Promise<void>; release: () => void }>();
const failuresLeft = new Map<string, number>();
export const calls = new Map<string, number>();

/** Holds every run of `jobName` in handler "testGated" until `release`. */
export function gate(jobName: string) {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  gates.set(jobName, { promise, release });
  return () => {
    release();
    gates.delete(jobName);
  };
}

/** Makes "testFlaky" fail the next `count` attempts of `jobName`. */
export function failNext(jobName: string, count: number) {
  failuresLeft.set(jobName, count);
}

const count = (jobName: string) => calls.set(jobName, (calls.get(jobName) ?? 0) + 1);

/** The built-ins and the test handlers. */
export const TEST_HANDLERS = handlerRegistry({
  testNoop: oneStep(async ({ jobName, dryRun }) => {
    count(jobName);
    return { done: 1, dry_run: dryRun ? 1 : 0 };
  }),
  testGated: oneStep(async ({ jobName }) => {
    count(jobName);
    await gates.get(jobName)?.promise;
    return { done: 1 };
  }),
  testFlaky: oneStep(async ({ jobName }) => {
    count(jobName);
    const left = failuresLeft.get(jobName) ?? 0;
    if (left > 0) {
      failuresLeft.set(jobName, left - 1);
      throw new Error(`planned failure (${left} left)`);
    }
    return { done: 1 };
  }),
  testBroken: oneStep(async ({ jobName }) => {
    count(jobName);
    throw new Error("the handler broke on purpose");
  }),
});
