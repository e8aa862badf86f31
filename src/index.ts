import { createApp } from "./app";
import { handleQueue } from "./delivery/consumer";
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
  /** Notification delivery: the outbox rows named by NOTIFICATIONS messages, and its dead-letter queue. */
  async queue(batch, env) {
    await handleQueue(batch, env);
  },
} satisfies ExportedHandler<Env>;
