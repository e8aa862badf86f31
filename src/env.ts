import type { JobScheduler } from "./scheduler/job-scheduler";
import type { Supervisor } from "./scheduler/supervisor";

/** The Worker's bindings (wrangler.toml) and secrets (.dev.vars / wrangler secret). */
export interface Env {
  DB: D1Database;
  JOB_SCHEDULER: DurableObjectNamespace<JobScheduler>;
  SUPERVISOR: DurableObjectNamespace<Supervisor>;
  /** Comma-separated bearer tokens; several allow rotation without downtime. */
  SCHEDULER_API_TOKEN?: string;
  /** "true" makes reads require a token too. */
  REQUIRE_AUTH_FOR_READS?: string;
  /** Milliseconds a job's object is woken before its instant (default 1000, 0 = off, at most 10000). */
  FIRE_LEAD_MS?: string;
}
