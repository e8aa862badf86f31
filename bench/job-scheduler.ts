import { handlerRegistry, oneStep } from "../src/handlers";
import { JobScheduler as ServiceJobScheduler } from "../src/scheduler/job-scheduler";

/**
 * The bench jobs' handler by default: a run with no work of its own, so the
 * figures measure the scheduler against the bare baseline object, not a
 * handler's queries (one D1 read costs as much as the baseline's whole run on
 * the local runtime). BENCH_HANDLER=<built-in> measures with a real one.
 */
const BENCH_HANDLERS = handlerRegistry({ benchNoop: oneStep(async () => ({})) });

/** The service's JobScheduler, unchanged but for its registry: the built-ins and benchNoop. */
export class JobScheduler extends ServiceJobScheduler {
  protected override readonly handlers = BENCH_HANDLERS;
}
