import type { JobScheduler } from "./scheduler/job-scheduler";
import type { Supervisor } from "./scheduler/supervisor";

/** The Worker's bindings (wrangler.toml) and secrets (.dev.vars / wrangler secret). */
export interface Env {
  DB: D1Database;
  JOB_SCHEDULER: DurableObjectNamespace<JobScheduler>;
  SUPERVISOR: DurableObjectNamespace<Supervisor>;
  /** Static assets (public/: the pinned Swagger UI for /docs). */
  ASSETS?: Fetcher;
  /** Failed authentications per client address (wrangler.toml [[ratelimits]]). */
  AUTH_FAILURES?: RateLimit;
  /** Comma-separated bearer tokens, each an unnamed admin; several allow rotation without downtime. */
  SCHEDULER_API_TOKEN?: string;
  /** Named keys with roles: `name:role:token` entries separated by commas or newlines (role: read, operator, admin). */
  SCHEDULER_API_KEYS?: string;
  /** "true" makes reads require a key too ("true"/"false", any case; anything else locks reads). */
  REQUIRE_AUTH_FOR_READS?: string;
  /** Origins allowed to make changes from a browser on another site (comma- or space-separated); unset: none. */
  CORS_ORIGINS?: string;
  /** Days the runs of a deleted job are kept (default 30). */
  RUN_RETENTION_DAYS?: string;
  /** Days audit rows are kept (default 400). */
  AUDIT_RETENTION_DAYS?: string;
  /** Milliseconds a job's object is woken before its instant (default 1000, 0 = off, at most 10000). */
  FIRE_LEAD_MS?: string;
}
