import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The service's one error type. Handlers throw it; `onError` turns it (and
 * anything else) into the single error shape:
 * `{ "error": { "code", "message", "details"?, "request_id"? } }`.
 */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message });
  }

  body(requestId?: string) {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
        ...(requestId ? { request_id: requestId } : {}),
      },
    };
  }
}

export const jobNotFound = (jobName: string) =>
  new ApiError(404, "job_not_found", `No job named "${jobName}" is registered.`, { job_name: jobName });
