import type { Env } from "../env";
import { logEvent } from "../lib/log";

let started: Promise<void> | null = null;

/**
 * Once per isolate: make sure the supervisor has run, so a fresh deployment
 * arms its jobs (the built-in ones come from a migration, unarmed) before it
 * answers its first request. Later requests do not wait for anything.
 */
export function bootstrapOnce(env: Env): Promise<void> {
  started ??= env.SUPERVISOR.getByName("supervisor")
    .ensureStarted()
    .catch((error) => {
      started = null;
      logEvent("supervisor.bootstrap_failed", { error: String(error) }, "error");
    });
  return started;
}
