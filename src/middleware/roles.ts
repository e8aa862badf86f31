import type { Context, Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireRole, type Role } from "./auth";

/** The body of a copy of the request, or null if it is longer than `maxBytes` (the original is left for the body limit). */
async function boundedBody(request: Request, maxBytes: number): Promise<string | null> {
  const body = request.clone().body;
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * PATCH /jobs/{jobName} with only `is_active` is a pause or a resume, which an
 * operator may do; any other field changes what the job is, which needs admin.
 * The body is looked at only for a key below admin, from a copy of the request read
 * no further than the body limit. A body the limit or validation will refuse (too
 * large, not JSON, not an object) is left to them (413/400): nothing changes either way.
 */
export function pauseOrResumeIsOperator(maxBytes: number) {
  return async (c: Context<AppEnv>): Promise<Role> => {
    if (c.get("apiKey")?.role === "admin") return "admin";
    const text = await boundedBody(c.req.raw, maxBytes);
    if (text === null) return "operator";
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return "operator";
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return "operator";
    const fields = Object.keys(body);
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
  // Before the read guard below, which also matches it: the first guard to pass a request decides.
  app.on("POST", `${base}/notifications/:id/retry`, requireRole("operator"));
  // Notifications and reports hold personal data (mentors' emails): a key even when reads are public.
  for (const path of ["/notifications", "/notifications/*", "/reports", "/reports/*"]) app.use(`${base}${path}`, requireRole("read"));
  app.on("POST", `${base}/jobs/:jobName/trigger`, requireRole("operator"));
  app.on("PATCH", `${base}/jobs/:jobName`, requireRole(pauseOrResumeIsOperator(maxBodyBytes)));
}
