/**
 * The benchmark's Worker: the service exactly as src/index.ts exports it, its
 * JobScheduler with the bench handler (bench/job-scheduler.ts), plus bench-only
 * objects and routes (/__bench/*). Only bench/wrangler.toml points
 * here; production never routes any of it.
 */
import service from "../src/index";
import { benchRoutes, type BenchEnv } from "./routes";

export { Supervisor } from "../src/index";
export { BaselineObject } from "./baseline-object";
export { JobScheduler } from "./job-scheduler";
export { MeteredJobScheduler } from "./metered-job-scheduler";

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
