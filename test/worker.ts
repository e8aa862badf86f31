/**
 * The Worker the tests run: the service exactly as src/index.ts exports it,
 * with its JobScheduler given test-only hooks (a subclass, so the tests never
 * reach into the object's private fields).
 */
import { JobScheduler as ServiceJobScheduler } from "../src/scheduler/job-scheduler";
import type { Hold } from "./helpers/hold";

export { default, Supervisor } from "../src/index";

export class JobScheduler extends ServiceJobScheduler {
  /**
   * Holds the next D1 batch this object sends (built from what the object
   * held then, not yet sent) until `gate` is released.
   */
  holdNextBatch(gate: Hold & { wait(): Promise<void> }): void {
    const d1 = this.db.$client;
    const send = d1.batch;
    d1.batch = (async (statements: D1PreparedStatement[]) => {
      d1.batch = send; // this batch only
      await gate.wait();
      return send.call(d1, statements);
    }) as D1Database["batch"];
  }
}
