/**
 * The Worker the tests run: the service exactly as src/index.ts exports it,
 * with its JobScheduler given test-only hooks and the test handlers beside the
 * built-ins (a subclass, so the tests never reach into the object's private fields).
 */
import { JobScheduler as ServiceJobScheduler } from "../src/scheduler/job-scheduler";
import { EMPTY_JOB_STATE, JOB_STATE_KEY, type JobState } from "../src/scheduler/alarm-plan";
import { RUN_KEY_PREFIX, type RunningEntry } from "../src/scheduler/run-executor";
import type { Hold } from "./helpers/hold";
import { TEST_HANDLERS } from "./helpers/test-handlers";

export { default, Supervisor } from "../src/index";

type Gate = Hold & { wait(): Promise<void> };

/** A statement whose execution waits for `gate` (binding returns another such statement). */
function heldStatement(statement: D1PreparedStatement, gate: Gate): D1PreparedStatement {
  const held = Object.create(statement) as D1PreparedStatement;
  held.bind = (...values: unknown[]) => heldStatement(statement.bind(...values), gate);
  for (const method of ["first", "all", "raw", "run"] as const) {
    (held as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      await gate.wait();
      return (statement[method] as (...a: unknown[]) => unknown).apply(statement, args);
    };
  }
  return held;
}

export class JobScheduler extends ServiceJobScheduler {
  protected override readonly handlers = TEST_HANDLERS;
  /** Requests waiting for the owner's turn (so a race test knows the second request has arrived). */
  private waiting = 0;

  protected override exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.waiting++;
    return super.exclusive(() => {
      this.waiting--;
      return fn();
    });
  }

  /** Analytics Engine data points this instance wrote (AE has no local runtime: the binding drops them). */
  private dataPoints: AnalyticsEngineDataPoint[] = [];

  protected override writeRunMetric(point: AnalyticsEngineDataPoint): void {
    this.dataPoints.push(point);
    super.writeRunMetric(point);
  }

  writtenDataPoints(): AnalyticsEngineDataPoint[] {
    return this.dataPoints;
  }

  /** Moves the stored next instant (back-dating makes it due), through the object's own write. */
  setNext(at: number): void {
    const state = this.read();
    if (state === EMPTY_JOB_STATE) throw new Error("the object has no stored state: no next instant to move");
    this.save({ ...state, next: at });
  }

  /** Rewrites the stored runs in progress (back-date a deadline or a retry), through the object's own write. */
  editRunning(edit: (entry: RunningEntry) => RunningEntry): void {
    for (const entry of this.running()) this.putRun(edit(entry));
  }

  /** What the object holds in memory beside what its storage holds: the two must always be equal. */
  memoryAndStorage() {
    const kv = this.ctx.storage.kv;
    return {
      memory: { state: this.read(), running: this.running() },
      stored: {
        state: kv.get<JobState>(JOB_STATE_KEY) ?? EMPTY_JOB_STATE,
        running: [...kv.list<RunningEntry>({ prefix: RUN_KEY_PREFIX })].map(([, entry]) => entry),
      },
    };
  }

  waitingForTurn(): number {
    return this.waiting;
  }

  /** Holds the next single D1 statement this object runs (a read, such as its fresh read of the job) until `gate` is released. */
  holdNextStatement(gate: Gate): void {
    const d1 = this.db.$client;
    const prepare = d1.prepare;
    d1.prepare = (query: string) => {
      d1.prepare = prepare; // this statement only
      return heldStatement(prepare.call(d1, query), gate);
    };
  }

  /**
   * Holds the next D1 batch this object sends (built from what the object
   * held then, not yet sent) until `gate` is released.
   */
  holdNextBatch(gate: Gate): void {
    const d1 = this.db.$client;
    const send = d1.batch;
    d1.batch = (async (statements: D1PreparedStatement[]) => {
      d1.batch = send; // this batch only
      await gate.wait();
      return send.call(d1, statements);
    }) as D1Database["batch"];
  }
}
