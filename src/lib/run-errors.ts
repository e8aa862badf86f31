/**
 * A run's stored `error` is raw text: a handler's exception message (which may hold
 * anything: SQL, a path, a person's data), or the scheduler's own words for a timeout
 * or a skipped instant. The public side sees a stable code and a short safe message;
 * the raw text stays in the log and in `error_detail`, shown only to a request made
 * with a valid key.
 */
export interface PublicRunError {
  code: "handler_failed" | "timed_out" | "skipped_overlap" | "skipped_misfire" | "skipped_catchup_window" | "skipped";
  message: string;
}

export function publicRunError(status: string, error: string): PublicRunError {
  if (status === "skipped") {
    if (/overlap_policy/.test(error)) return { code: "skipped_overlap", message: "Not run: the previous run was still going and overlap_policy is \"skip\"." };
    if (/misfire_policy/.test(error)) return { code: "skipped_misfire", message: "Not run: the instant was missed and misfire_policy is \"skip\"." };
    if (/catchup_window/.test(error)) return { code: "skipped_catchup_window", message: "Not run: the instant was missed by more than catchup_window_seconds." };
    return { code: "skipped", message: "Not run." };
  }
  if (/^timed out:/.test(error)) return { code: "timed_out", message: "The run did not finish within timeout_seconds." };
  return { code: "handler_failed", message: "The handler failed; the details are in the service's log and, with an API key, in error_detail." };
}

/** The `error` (and with a key, `error_detail`) fields of a run's representation. */
export function runErrorFields(status: string, error: string | null, detail: boolean): { error?: PublicRunError; error_detail?: string } {
  if (error === null) return {};
  return { error: publicRunError(status, error), ...(detail ? { error_detail: error } : {}) };
}
