import { createApp } from "./app";
import type { Env } from "./env";

export { JobScheduler } from "./scheduler/job-scheduler";
export { Supervisor } from "./scheduler/supervisor";

const app = createApp();

/** For Hono's typed client: `hc<AppType>(url)`. */
export type AppType = typeof app;

export default {
  fetch: app.fetch,
  /** Cron Trigger: a backstop for the supervisor's own alarm in production. */
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(env.SUPERVISOR.getByName("supervisor").runPass());
  },
} satisfies ExportedHandler<Env>;
