import type { JobScheduler } from "./scheduler/job-scheduler";
import type { Supervisor } from "./scheduler/supervisor";

/** A notification queue message: the outbox row's id only (a message is limited to 128 KB). */
export interface NotificationMessage {
  id: number;
}

/** The Worker's bindings (wrangler.toml) and secrets (.dev.vars / wrangler secret). */
export interface Env {
  DB: D1Database;
  JOB_SCHEDULER: DurableObjectNamespace<JobScheduler>;
  SUPERVISOR: DurableObjectNamespace<Supervisor>;
  /** Static assets (public/: the pinned Swagger UI for /docs). */
  ASSETS?: Fetcher;
  /** Failed authentications per client address (wrangler.toml [[ratelimits]]). */
  AUTH_FAILURES?: RateLimit;
  /** Outbox row ids to deliver; consumed by this Worker's own queue(). */
  NOTIFICATIONS: Queue<NotificationMessage>;
  /** One data point per finished run (Workers Analytics Engine; src/lib/run-metrics.ts). Writes are dropped under `wrangler dev`. */
  RUN_METRICS?: AnalyticsEngineDataset;
  /** Cloudflare Email Service (send_email). Simulated and logged under `wrangler dev`. */
  EMAIL?: SendEmail;
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
  /** Delivery (see README "Delivery" and src/delivery/config.ts). */
  NOTIFY_CHANNEL?: string;
  NOTIFY_WEBHOOK_URL?: string;
  NOTIFY_WEBHOOK_SECRET?: string;
  NOTIFY_FROM?: string;
  REPORT_RECIPIENTS?: string;
  ALERT_RECIPIENTS?: string;
  PUBLIC_BASE_URL?: string;
  NOTIFICATION_RETENTION_DAYS?: string;
  NOTIFY_RETRY_BASE_SECONDS?: string;
  NOTIFY_MAX_ATTEMPTS?: string;
  /** Requests in flight to receivers per consumer batch (default 50, 4-100). */
  NOTIFY_MAX_IN_FLIGHT?: string;
  /** Per-request webhook timeout, at most (and by default) 10000 ms; lower only in tests. */
  NOTIFY_WEBHOOK_TIMEOUT_MS?: string;
}
