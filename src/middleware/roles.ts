import type { Context, Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireRole, type Role } from "./auth";

/**
 * PATCH /jobs/{jobName} with only `is_active` is a pause or a resume, which an
 * operator may do; any other field changes what the job is, which needs admin.
 * The body is looked at only for a key below admin, and only if it declares a
 * length within the body limit (the body limit and validation come after, and
 * Hono caches the parsed body for them). A body that is not a JSON object is left
 * to validation, which refuses it with 400.
 */
export function pauseOrResumeIsOperator(maxBytes: number) {
  return async (c: Context<AppEnv>): Promise<Role> => {
    if (c.get("apiKey")?.role === "admin") return "admin";
    const length = Number(c.req.header("content-length") ?? Number.NaN);
    if (!Number.isInteger(length) || length > maxBytes) return "admin";
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return "operator";
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return "operator";
    const fields = Object.keys(body).filter((k) => k !== "job_name");
    return fields.length === 1 && fields[0] === "is_active" ? "operator" : "admin";
  };
}

/**
 * Who may do what, in one place; registered before the generic guard, so a change
 * not listed here needs admin, and a read is public unless reads are locked.
 * A new route gets its role with one line here.
 */
export function registerRoles(app: Hono<AppEnv>, base: string, maxBodyBytes: number): void {
  app.on("GET", `${base}/audit`, requireRole("read"));
  app.on("POST", `${base}/jobs/:jobName/trigger`, requireRole("operator"));
  app.on("PATCH", `${base}/jobs/:jobName`, requireRole(pauseOrResumeIsOperator(maxBodyBytes)));
}
