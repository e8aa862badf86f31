/**
 * The benchmark's Worker: the service exactly as src/index.ts exports it, plus
 * bench-only objects and routes (/__bench/*). Only bench/wrangler.toml points
 * here; production never routes any of it.
 */
import { oneStep, registerHandler } from "../src/handlers";
import service from "../src/index";
import { benchRoutes, type BenchEnv } from "./routes";

export { JobScheduler, Supervisor } from "../src/index";
export { BaselineObject } from "./baseline-object";
export { MeteredJobScheduler } from "./metered-job-scheduler";

// The bench jobs' handler by default: a run with no work of its own, so the
// figures measure the scheduler against the bare baseline object, not a
// handler's queries (one D1 read costs as much as the baseline's whole run on
// the local runtime). BENCH_HANDLER=<built-in> measures with a real one.
registerHandler("benchNoop", oneStep(async () => ({})));

export default {
  fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    // The "route that does nothing" that GET /jobs is compared with.
    if (path === "/__bench/noop") return new Response("ok");
    if (path.startsWith("/__bench/")) return benchRoutes.fetch(request, env, ctx);
    return service.fetch(request, env, ctx);
  },
  scheduled: service.scheduled,
} satisfies ExportedHandler<BenchEnv>;
